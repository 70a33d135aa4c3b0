import { describe, expect, it } from 'vitest';
import { DeviceConnectionLog } from './device-connection-log';

const line = (event: object) => JSON.stringify({ time: '2026-01-01T00:00:00.000Z', ...event });

describe('DeviceConnectionLog', () => {
  it('follows online, offline and credentials-changed per thing, ignoring other lines and sources', () => {
    const log = new DeviceConnectionLog();
    log.observeSource('device t1', line({ event: 'online', certificateId: 'a' }));
    log.observeSource('device t1', 'Connected!');
    log.observeSource('device t1', line({ event: 'published', index: 1 }));
    log.observeSource('deploy', line({ event: 'online', certificateId: 'z' }));
    expect(log.onlineCertificate('t1')).toBe('a');

    log.observe('t1', line({ event: 'credentials-changed', from: 'a', to: 'b' }));
    log.observe('t1', line({ event: 'offline', certificateId: 'a', cause: 'switching' }));
    expect(log.onlineCertificate('t1')).toBeUndefined();
    log.observe('t1', line({ event: 'online', certificateId: 'b' }));

    expect(log.online()).toEqual(new Map([['t1', 'b']]));
    expect(log.events('t1')).toEqual([
      { event: 'online', certificateId: 'a' },
      { event: 'credentials-changed', certificateId: 'b' },
      { event: 'offline', certificateId: 'a' },
      { event: 'online', certificateId: 'b' },
    ]);
    expect(log.events('deploy')).toEqual([]);
  });
});
