// Records put straight into an in-memory IotRegistry, for unit tests of what reads it.
import type { IotRegistry } from '../src/iot-registry';

/** ARN prefix of the registry's records: `arn:aws:iot:us-east-1:000000000000`. */
export const TEST_ARN_PREFIX = 'arn:aws:iot:us-east-1:000000000000';

/** A certificate `id` in PENDING_ACTIVATION, as the provisioning API leaves it. */
export function addPendingCertificate(registry: IotRegistry, id: string): void {
  registry.certificates.set(id, {
    certificateId: id,
    certificateArn: `${TEST_ARN_PREFIX}:cert/${id}`,
    certificatePem: 'pem',
    status: 'PENDING_ACTIVATION',
    creationDate: 0,
    lastModifiedDate: 0,
    generationId: 'g',
  });
}

/** A policy `name`, attached to `targets`. */
export function addPolicy(registry: IotRegistry, name: string, targets: string[] = []): void {
  registry.policies.set(name, {
    policyName: name,
    policyArn: `${TEST_ARN_PREFIX}:policy/${name}`,
    policyDocument: '{}',
    creationDate: 0,
    lastModifiedDate: 0,
    generationId: 'g',
  });
  if (targets.length > 0) registry.policyTargets.set(name, new Set(targets));
}

/** A static thing group `name`, child of `parent`. */
export function addThingGroup(registry: IotRegistry, name: string, parent?: string): void {
  registry.thingGroups.set(name, {
    thingGroupName: name,
    thingGroupId: name,
    thingGroupArn: `${TEST_ARN_PREFIX}:thinggroup/${name}`,
    parentGroupName: parent,
    attributes: {},
    version: 1,
    creationDate: 0,
  });
}
