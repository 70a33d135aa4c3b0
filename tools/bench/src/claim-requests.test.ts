import { describe, expect, it } from 'vitest';
import { countClaimRequests, registrationFloorMs, splitFleet } from './claim-requests.mjs';

const fleet = (fields: Record<string, unknown>) =>
  JSON.stringify({ service: 'fleet-provisioning', ...fields });
const mqtt = (fields: Record<string, unknown>) => JSON.stringify({ service: 'mqtt', ...fields });

describe('countClaimRequests', () => {
  it('counts every provisioning publish and CONNECT per client id of the fleet, throttled ones included', () => {
    const lines = [
      mqtt({ event: 'connected', clientId: 'f-1' }),
      fleet({ operation: 'CreateCertificateFromCsr', clientId: 'f-1', status: 200 }),
      fleet({ operation: 'RegisterThing', clientId: 'f-1', status: 429 }),
      fleet({ operation: 'RegisterThing', clientId: 'f-1', status: 429 }),
      fleet({ operation: 'RegisterThing', clientId: 'f-1', status: 200 }),
      mqtt({ event: 'connect-refused', clientId: 'f-1', reason: 'CONNECT rate exceeded' }),
      mqtt({ event: 'connected', clientId: 'f-1' }),
      mqtt({ event: 'connected', clientId: 'f-2' }),
      fleet({ operation: 'CreateCertificateFromCsr', clientId: 'f-2', status: 200 }),
      fleet({ operation: 'RegisterThing', clientId: 'f-2', status: 403 }),
    ];

    const counts = countClaimRequests(lines, 'f-', 2);

    expect(counts.publishes).toEqual([2, 4]);
    expect(counts.throttled).toEqual([0, 2]);
    expect(counts.connects).toEqual([1, 3]);
    expect(counts.byOperation).toEqual({
      CreateCertificateFromCsr: { calls: 2, throttled: 0, accepted: 2 },
      RegisterThing: { calls: 4, throttled: 2, accepted: 1 },
    });
  });

  it('ignores other clients, other services and events, and lines that are not JSON', () => {
    const lines = [
      mqtt({ event: 'connected', clientId: 'other-1' }),
      fleet({ operation: 'RegisterThing', clientId: 'other-1', status: 200 }),
      JSON.stringify({ service: 'iot', operation: 'CreateThing', clientId: 'f-1' }),
      mqtt({ event: 'denied', clientId: 'f-1' }),
      fleet({ event: 'token-expired', certificateId: 'abc' }),
      'not json',
      mqtt({ event: 'connected', clientId: 'f-1' }),
    ];

    const counts = countClaimRequests(lines, 'f-', 1);

    expect(counts.publishes).toEqual([0]);
    expect(counts.connects).toEqual([1]);
    expect(counts.byOperation).toEqual({});
  });

  it('counts a device the log never saw as zero requests', () => {
    const counts = countClaimRequests([mqtt({ event: 'connected', clientId: 'f-1' })], 'f-', 3);

    expect(counts.connects).toEqual([0, 0, 1]);
    expect(counts.publishes).toEqual([0, 0, 0]);
  });
});

describe('registrationFloorMs', () => {
  it('is N over the rate, in ms', () => {
    expect(registrationFloorMs(1000, 10)).toBe(100_000);
    expect(registrationFloorMs(10, 10)).toBe(1000);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => registrationFloorMs(10, 0)).toThrow(RangeError);
  });
});

describe('splitFleet', () => {
  it('covers every device once in nearly equal consecutive ranges', () => {
    expect(splitFleet(1000, 4)).toEqual([
      { first: 0, count: 250 },
      { first: 250, count: 250 },
      { first: 500, count: 250 },
      { first: 750, count: 250 },
    ]);
    expect(splitFleet(10, 3)).toEqual([
      { first: 0, count: 4 },
      { first: 4, count: 3 },
      { first: 7, count: 3 },
    ]);
  });

  it('never makes an empty range', () => {
    expect(splitFleet(2, 5)).toEqual([
      { first: 0, count: 1 },
      { first: 1, count: 1 },
    ]);
  });
});
