import { expect } from 'vitest';
import type { DeviceConnection } from '../src/device-connection';

/**
 * Publishes `count` QoS 1 messages (`m1`, `m2`, …) to `topic` every 100 ms on
 * a started connection subscribed to it, calls `rotate` before message
 * `rotateAt`, and resolves once every message came back, with what came back
 * and what `rotate` returned.
 */
export async function publishThroughRotation<T>(
  connection: Pick<DeviceConnection, 'publish' | 'subscribe'>,
  options: { topic: string; count: number; rotateAt: number; rotate: () => Promise<T> },
): Promise<{ received: Set<string>; sent: string[]; rotated: T | undefined }> {
  const received = new Set<string>();
  const sent: string[] = [];
  let rotated: T | undefined;
  await connection.subscribe(options.topic, ({ payload }) => received.add(payload.toString()));
  const acknowledged: Array<Promise<void>> = [];
  for (let i = 1; i <= options.count; i++) {
    if (i === options.rotateAt) rotated = await options.rotate();
    sent.push(`m${i}`);
    acknowledged.push(connection.publish(options.topic, `m${i}`));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await Promise.all(acknowledged);
  await expect.poll(() => received.size).toBe(options.count);
  return { received, sent, rotated };
}
