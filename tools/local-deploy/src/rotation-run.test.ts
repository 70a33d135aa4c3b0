import { describe, expect, it } from 'vitest';
import type { DeployedResource } from './resource-provider';
import { heldCertificates } from './rotation-run';

const resource = (
  logicalId: string,
  type: string,
  physicalId: string,
  properties: Record<string, unknown>,
): DeployedResource => ({
  logicalId,
  type,
  physicalId,
  properties,
  attributes: {},
  skipped: false,
});

describe('heldCertificates', () => {
  it("maps each thing to its certificate resource's physical id, ignoring other resources", () => {
    const held = heldCertificates([
      resource('Cert1', 'Custom::ThingcertDeviceCertificate', 'aaa', { ThingName: 'd1' }),
      resource('Cert2', 'Custom::ThingcertDeviceCertificate', 'bbb', { ThingName: 'd2' }),
      resource('Thing1', 'AWS::IoT::Thing', 'd1', { ThingName: 'd1' }),
      resource('Other', 'Custom::Other', 'ccc', { ThingName: 'd3' }),
    ]);

    expect([...held]).toEqual([
      ['d1', 'aaa'],
      ['d2', 'bbb'],
    ]);
  });
});
