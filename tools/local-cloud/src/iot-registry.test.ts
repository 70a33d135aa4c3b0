import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { addPendingCertificate, addThingGroup } from '../test/registry-fixtures';
import { IotRegistry, sameAttributes } from './iot-registry';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('Class: IotRegistry', () => {
  it('keeps provisioning templates, thing groups, memberships and token hashes across a restart', async () => {
    // Prepare
    dir = await mkdtemp(join(tmpdir(), 'thingcert-registry-'));
    const registry = await IotRegistry.open(dir);
    addPendingCertificate(registry, 'c1');
    addThingGroup(registry, 'root');
    addThingGroup(registry, 'child', 'root');
    registry.thingGroupMembers.set('child', new Set(['t1']));
    registry.ownershipTokens.set('hash', { tokenHash: 'hash', certificateId: 'c1', expiresAt: 5 });
    registry.provisioningTemplates.set('t', {
      templateName: 't',
      templateArn: 'arn:aws:iot:us-east-1:000000000000:provisioningtemplate/t',
      templateBody: '{}',
      enabled: true,
      provisioningRoleArn: 'arn:aws:iam::000000000000:role/r',
      type: 'FLEET_PROVISIONING',
      creationDate: 1,
      lastModifiedDate: 1,
    });

    // Act
    await registry.save();
    const reopened = await IotRegistry.open(dir);

    // Assess
    expect(reopened.provisioningTemplates.get('t')).toEqual(
      registry.provisioningTemplates.get('t'),
    );
    expect(reopened.groupLineage('child').map((g) => g.thingGroupName)).toEqual(['child', 'root']);
    expect(reopened.groupsOfThing('t1')).toEqual(['child']);
    expect(reopened.ownershipTokens.get('hash')).toEqual({
      tokenHash: 'hash',
      certificateId: 'c1',
      expiresAt: 5,
    });
  });
});

describe('Function: sameAttributes', () => {
  it('compares attribute maps whatever the order of their keys', () => {
    expect(sameAttributes({ a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameAttributes({ a: '1' }, { a: '2' })).toBe(false);
    expect(sameAttributes({ a: '1' }, {})).toBe(false);
  });
});
