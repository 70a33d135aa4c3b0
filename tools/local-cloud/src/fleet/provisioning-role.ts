import { FleetProvisioningError } from '../errors';
import type { AccessEvaluator, AccessRequest } from '../iam/access-evaluator';
import type { IdentityRegistry, RoleSessionPrincipal } from '../iam/identity-registry';
import type { IotRegistry } from '../iot-registry';
import type { ProvisioningPlan } from './template-evaluation';

/**
 * Decides whether a template's provisioning role may do what a registration does.
 * @throws FleetProvisioningError `AccessDenied` (403) when it may not.
 */
export type ProvisioningRoleCheck = (roleArn: string, requests: AccessRequest[]) => Promise<void>;

/** What {@link provisioningRoleCheck} needs. */
export interface ProvisioningRoleCheckDeps {
  identities: IdentityRegistry;
  evaluator: AccessEvaluator;
  accountId: string;
}

/** The session name AWS IoT's use of the role shows in `aws:userid` and the assumed-role ARN. */
const SESSION_NAME = 'iot-fleet-provisioning';

/**
 * AWS IoT assumes the template's provisioning role to create what RegisterThing creates, so the
 * role's identity policies decide. Here: a role registered in the local IAM (`cloud.iam.putRole`)
 * is evaluated like any role session, through AWS IoT (`aws:ViaAWSService`); a role the local IAM
 * does not know is not evaluated, as an unregistered access key is the admin, unless the cloud
 * was started with `adminCredentials` (strict), where it cannot be assumed and the registration
 * is refused.
 */
export function provisioningRoleCheck(deps: ProvisioningRoleCheckDeps): ProvisioningRoleCheck {
  return async (roleArn, requests) => {
    const roleName = roleArn.slice(roleArn.lastIndexOf('/') + 1);
    const role = await deps.identities.getRole(roleName);
    if (role?.roleArn !== roleArn) {
      if (!deps.identities.adminRestricted) return;
      throw denied(
        `the provisioning role ${roleArn} cannot be assumed: the local IAM has no such role`,
      );
    }
    const principal: RoleSessionPrincipal = {
      kind: 'role-session',
      accessKeyId: '',
      assumedRoleArn: `arn:aws:sts::${deps.accountId}:assumed-role/${roleName}/${SESSION_NAME}`,
      roleArn,
      userId: `${role.roleId}:${SESSION_NAME}`,
      policies: () => Object.values(role.policies),
    };
    for (const request of requests) {
      const decision = await deps.evaluator.decide(
        principal,
        { ...request, viaService: true },
        { secure: true, sourceIp: undefined },
      );
      if (!decision.allowed) {
        throw denied(
          `the provisioning role ${roleArn} is not authorized to perform: ${request.action} on resource: ${request.resource}`,
        );
      }
    }
  };
}

/**
 * What a registration asks of the provisioning role, as IoT API actions on their resources:
 * CreateThing (or UpdateThing for a thing that exists), AddThingToThingGroup per group,
 * AttachThingPrincipal, CreatePolicy for a policy made from a document, AttachPolicy per policy,
 * UpdateCertificate. (Which calls AWS IoT makes with the role is not documented; these are the
 * writes a registration performs.)
 */
export function provisioningRequests(
  registry: IotRegistry,
  arnPrefix: string,
  plan: ProvisioningPlan,
  certificateArn: string,
): AccessRequest[] {
  const requests: AccessRequest[] = [];
  const { thing } = plan;
  if (thing !== undefined) {
    const thingArn = `${arnPrefix}:thing/${thing.thingName}`;
    const exists = registry.things.has(thing.thingName);
    requests.push({ action: exists ? 'iot:UpdateThing' : 'iot:CreateThing', resource: thingArn });
    for (const group of thing.thingGroups ?? []) {
      requests.push(
        { action: 'iot:AddThingToThingGroup', resource: `${arnPrefix}:thinggroup/${group}` },
        { action: 'iot:AddThingToThingGroup', resource: thingArn },
      );
    }
    requests.push({
      action: 'iot:AttachThingPrincipal',
      resource: certificateArn,
      context: { 'iot:thingArn': thingArn },
    });
  }
  for (const policy of plan.policies) {
    if (policy.policyDocument !== undefined && !registry.policies.has(policy.policyName)) {
      requests.push({
        action: 'iot:CreatePolicy',
        resource: `${arnPrefix}:policy/${policy.policyName}`,
      });
    }
    requests.push({ action: 'iot:AttachPolicy', resource: certificateArn });
  }
  if (plan.certificate !== undefined) {
    requests.push({ action: 'iot:UpdateCertificate', resource: certificateArn });
  }
  return requests;
}

function denied(why: string): FleetProvisioningError {
  return new FleetProvisioningError(403, 'AccessDenied', `Provisioning was denied: ${why}`);
}
