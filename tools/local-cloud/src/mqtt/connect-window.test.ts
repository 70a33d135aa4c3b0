import { describe, expect, it } from 'vitest';
import { ConnectWindow } from './connect-window';

describe('Class: ConnectWindow', () => {
  it('refuses a second CONNECT of the same client id inside the window only', () => {
    const window = new ConnectWindow(1000);
    window.record('a', 0);
    expect(window.tooSoon('a', 999)).toBe(true);
    expect(window.tooSoon('b', 999)).toBe(false);
    expect(window.tooSoon('a', 1000)).toBe(false);
  });

  it('restarts the window only from a recorded (accepted) CONNECT', () => {
    const window = new ConnectWindow(1000);
    window.record('a', 0);
    window.record('b', 500);
    window.record('a', 1600);
    expect(window.tooSoon('a', 2000)).toBe(true);
    expect(window.tooSoon('b', 2000)).toBe(false);
  });

  it('never refuses when the interval is 0', () => {
    const window = new ConnectWindow(0);
    window.record('a', 0);
    expect(window.tooSoon('a', 0)).toBe(false);
  });
});
