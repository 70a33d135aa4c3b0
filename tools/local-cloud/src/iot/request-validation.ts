import type { IncomingHttpHeaders } from 'node:http';
import { IotServiceError } from '../errors';

// AWS's rules, copied from the AWS IoT API reference on purpose (so are the
// other AWS rules in this package: key types, bucket names, payload size). The
// local cloud models AWS, not thingcert: it must not import thingcert's own
// contracts package, or a mistake in thingcert's rules would be mirrored here
// and the tests run against the local cloud could never catch it.
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const CERTIFICATE_ID = /^(0x)?[a-fA-F0-9]{64}$/;
const TEMPLATE_NAME = /^[0-9A-Za-z_-]{1,36}$/;
const THING_GROUP_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** A request value as an error message shows it (strings as they are, anything else as JSON). */
export function shownValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

/** The `InvalidRequestException` AWS answers when a member breaks its constraint. */
export function validationError(
  member: string,
  value: string,
  constraint: string,
): IotServiceError {
  return new IotServiceError(
    'InvalidRequestException',
    400,
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A certificate id from a path, normalised as AWS does (no `0x`, lower case). */
export function validCertificateId(id: string | undefined): string {
  const valid = matching(
    'certificateId',
    id,
    CERTIFICATE_ID,
    '(0x)?[a-fA-F0-9]+ and have length 64',
  );
  return valid.replace(/^0x/, '').toLowerCase();
}

/** A thing name that satisfies AWS's pattern and length. */
export function validThingName(name: string | undefined): string {
  return matching('thingName', name, THING_NAME, '[a-zA-Z0-9:_-]+');
}

/** A policy name that satisfies AWS's pattern and length. */
export function validPolicyName(name: string | undefined): string {
  return matching('policyName', name, POLICY_NAME, '[\\w+=,.@-]+');
}

/** A provisioning template name (`^[0-9A-Za-z_-]+$`, 1 to 36 characters). */
export function validTemplateName(name: string | undefined): string {
  return matching('templateName', name, TEMPLATE_NAME, '^[0-9A-Za-z_-]+$');
}

/** A thing group name (`[a-zA-Z0-9:_-]+`, 1 to 128 characters). */
export function validThingGroupName(name: string | undefined, member = 'thingGroupName'): string {
  return matching(member, name, THING_GROUP_NAME, '[a-zA-Z0-9:_-]+');
}

/** `value` if it matches `pattern`; AWS's validation error showing `shown` otherwise. */
function matching(
  member: string,
  value: string | undefined,
  pattern: RegExp,
  shown: string,
): string {
  if (value === undefined || !pattern.test(value)) {
    throw validationError(
      member,
      value ?? '',
      `Member must satisfy regular expression pattern: ${shown}`,
    );
  }
  return value;
}

/** The non-empty `target` member of AttachPolicy / DetachPolicy. */
export function requireTarget(body: Record<string, unknown>): string {
  const target = body['target'];
  if (typeof target !== 'string' || target.length === 0) {
    throw validationError('target', String(target), 'Member must not be null');
  }
  return target;
}

/** The principal ARN the thing-principal operations carry in the `x-amzn-principal` header. */
export function requirePrincipal(headers: IncomingHttpHeaders): string {
  const principal = headers['x-amzn-principal'];
  if (typeof principal !== 'string' || principal.length === 0) {
    throw validationError('principal', String(principal), 'Member must not be null');
  }
  return principal;
}
