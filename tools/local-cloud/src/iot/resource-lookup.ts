import { IotServiceError } from '../errors';
import type {
  CertificateRecord,
  IotRegistry,
  PolicyRecord,
  ThingGroupRecord,
  ThingRecord,
} from '../iot-registry';
import {
  validCertificateId,
  validPolicyName,
  validThingGroupName,
  validThingName,
} from './request-validation';

/**
 * The certificate a path names.
 * @throws IotServiceError `InvalidRequestException` for a malformed id,
 *   `ResourceNotFoundException` (404) for an unknown one.
 */
export function findCertificate(
  registry: IotRegistry,
  rawId: string | undefined,
): CertificateRecord {
  const id = validCertificateId(rawId);
  const record = registry.certificates.get(id);
  if (record === undefined) {
    throw new IotServiceError(
      'ResourceNotFoundException',
      404,
      `The certificate given in the resource identifier does not exist (certificateId: ${id})`,
    );
  }
  return record;
}

/**
 * The thing a path names.
 * @throws IotServiceError `InvalidRequestException` for a malformed name,
 *   `ResourceNotFoundException` (404) for an unknown one.
 */
export function findThing(registry: IotRegistry, name: string | undefined): ThingRecord {
  const record = registry.things.get(validThingName(name));
  if (record === undefined) {
    throw new IotServiceError('ResourceNotFoundException', 404, `Thing ${name} cannot be found.`);
  }
  return record;
}

/**
 * The thing group a path or body names.
 * @throws IotServiceError `InvalidRequestException` for a malformed name,
 *   `ResourceNotFoundException` (404) for an unknown one.
 */
export function findThingGroup(registry: IotRegistry, name: string | undefined): ThingGroupRecord {
  const record = registry.thingGroups.get(validThingGroupName(name));
  if (record === undefined) {
    throw new IotServiceError(
      'ResourceNotFoundException',
      404,
      `ThingGroup ${name} does not exist`,
    );
  }
  return record;
}

/**
 * The policy a path names.
 * @throws IotServiceError `InvalidRequestException` for a malformed name,
 *   `ResourceNotFoundException` (404) for an unknown one.
 */
export function findPolicy(registry: IotRegistry, name: string | undefined): PolicyRecord {
  const record = registry.policies.get(validPolicyName(name));
  if (record === undefined) {
    throw new IotServiceError('ResourceNotFoundException', 404, `Policy not found (name=${name})`);
  }
  return record;
}

/** AWS answers 404 when a principal names a certificate it does not know. */
export function requireCertificatePrincipal(registry: IotRegistry, arn: string): void {
  if (registry.certificateByArn(arn) === undefined) {
    throw new IotServiceError(
      'ResourceNotFoundException',
      404,
      'The certificate given in the principal does not exist.',
    );
  }
}
