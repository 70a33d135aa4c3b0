import { describe, expect, it } from 'vitest';
import {
  DeviceEventTracker,
  formatRotation,
  readPrintedRotations,
  ROTATION_LOG_SOURCE,
  type DeviceRotationStats,
  type RotationReport,
} from './rotation-stats';

const line = (event: Record<string, unknown>): string => JSON.stringify(event);
const published = (index: number): string =>
  line({ event: 'published', topic: 't', index, message: `Hello World! [${index}]` });
const received = (index: number): string =>
  line({ event: 'received', topic: 't', payload: JSON.stringify(`Hello World! [${index}]`) });

/** One device's rotation figures, as the tracker reports them; `overrides` change some. */
function deviceStats(
  name: string,
  overrides: Partial<DeviceRotationStats> = {},
): DeviceRotationStats {
  return {
    device: name,
    offlineMs: 410,
    reconnects: 1,
    stillOffline: false,
    published: 62,
    received: 62,
    lost: 0,
    certificateId: '5c1e0123456789abcdef',
    ...overrides,
  };
}

describe('DeviceEventTracker', () => {
  it('times offline→online inside the window and counts acknowledged, received and lost', () => {
    const tracker = new DeviceEventTracker();
    tracker.record('d1', line({ event: 'online', certificateId: 'aaa' }), 0);
    tracker.record('d1', published(1), 50);
    tracker.record('d1', received(1), 60);
    // The rotation window starts at 100.
    tracker.record('d1', published(2), 110);
    tracker.record('d1', line({ event: 'offline', certificateId: 'aaa', cause: 'dropped' }), 200);
    tracker.record('d1', line({ event: 'credentials-changed', from: 'aaa', to: 'bbb' }), 210);
    tracker.record('d1', line({ event: 'online', certificateId: 'bbb' }), 550);
    tracker.record('d1', received(2), 560);
    tracker.record('d1', published(3), 600);
    tracker.record('d1', received(3), 610);
    tracker.record('d1', received(3), 620); // a duplicate delivery
    tracker.record('d1', published(4), 700); // acknowledged, never received

    const [stats] = tracker.window(100, 1000);

    expect(stats).toEqual({
      device: 'd1',
      offlineMs: 350,
      reconnects: 1,
      stillOffline: false,
      published: 3,
      received: 2,
      lost: 1,
      certificateId: 'bbb',
    });
    expect(tracker.onlineWith('d1')).toBe('bbb');
    expect(tracker.ackedCount('d1')).toBe(4);
  });

  it('counts a device still offline up to the end of the window, and is not online with any certificate', () => {
    const tracker = new DeviceEventTracker();
    tracker.record('d1', line({ event: 'online', certificateId: 'aaa' }), 0);
    tracker.record('d1', line({ event: 'offline', certificateId: 'aaa', cause: 'switching' }), 300);

    const [stats] = tracker.window(100, 1000);

    expect(stats?.offlineMs).toBe(700);
    expect(stats?.stillOffline).toBe(true);
    expect(tracker.onlineWith('d1')).toBeUndefined();
  });

  it('ignores offline periods that began outside the window, and lines that are not events', () => {
    const tracker = new DeviceEventTracker();
    tracker.record('d1', line({ event: 'offline' }), 10);
    tracker.record('d1', line({ event: 'online', certificateId: 'aaa' }), 20);
    tracker.record('d1', 'not json', 30);
    tracker.record('d1', '"a string"', 30);
    tracker.record('d2', line({ event: 'online', certificateId: 'ccc' }), 40);

    const stats = tracker.window(100, 200);

    expect(stats.map((s) => [s.device, s.offlineMs, s.reconnects])).toEqual([
      ['d1', 0, 0],
      ['d2', 0, 0],
    ]);
    expect(tracker.deviceNames).toEqual(['d1', 'd2']);
  });
});

describe('formatRotation', () => {
  it('prints the update and one line per device', () => {
    expect(
      formatRotation({
        rotation: 1,
        of: 2,
        status: 'UPDATE_COMPLETE',
        updateMs: 3100,
        devices: [deviceStats('d1', { offlineMs: 412 })],
      }),
    ).toEqual([
      'rotation 1/2: UPDATE_COMPLETE in 3.10 s',
      '  d1: offline 0.41 s (1 reconnect), published 62, received 62, lost 0, on 5c1e01234567…',
    ]);
  });
});

describe('readPrintedRotations', () => {
  it('reads back what formatRotation printed under [rotate], skipping every other line', () => {
    const reports: RotationReport[] = [
      {
        rotation: 1,
        of: 2,
        status: 'UPDATE_COMPLETE',
        // Printed to the hundredth of a second, so read back exactly.
        updateMs: 3100,
        devices: [
          deviceStats('thingcert-device-1'),
          deviceStats('thingcert-device-2', { reconnects: 2 }),
        ],
      },
      {
        rotation: 2,
        of: 2,
        status: 'UPDATE_ROLLBACK_COMPLETE',
        updateMs: 12_000,
        devices: [
          deviceStats('thingcert-device-1', {
            stillOffline: true,
            offlineMs: 5000,
            lost: 3,
            received: 59,
            certificateId: undefined,
          }),
        ],
      },
    ];
    const printed = [
      '[stack] Thingcert UPDATE_IN_PROGRESS',
      ...reports.flatMap((report) =>
        formatRotation(report).map((text) => `[${ROTATION_LOG_SOURCE}] ${text}`),
      ),
      '  thingcert-device-1: offline 9.99 s (1 reconnect), published 1, received 1, lost 1, on x…',
      `[${ROTATION_LOG_SOURCE}] 2 rotation(s), 3 message(s) lost`,
    ].join('\n');

    expect(readPrintedRotations(printed)).toEqual(
      reports.map((report) => ({
        rotation: report.rotation,
        of: report.of,
        status: report.status,
        updateMs: report.updateMs,
        devices: report.devices.map(({ certificateId, ...stats }) => ({
          ...stats,
          certificatePrefix: certificateId?.slice(0, 12) ?? 'no certificate',
        })),
      })),
    );
  });
});
