import { IotServiceError } from '../errors';

/** One REST route of the control plane, as `@aws-sdk/client-iot` sends it. */
interface Route {
  readonly method: string;
  /** Path segments; `*` captures one segment (percent-decoded). */
  readonly path: readonly string[];
  readonly operation: string;
}

const TEMPLATES = 'provisioning-templates';
const GROUPS = 'thing-groups';

/**
 * Every operation the control plane answers, with the method and path AWS's
 * REST-JSON protocol uses for it.
 */
const ROUTES = [
  { method: 'POST', path: ['keys-and-certificate'], operation: 'CreateKeysAndCertificate' },
  { method: 'POST', path: ['certificates'], operation: 'CreateCertificateFromCsr' },
  { method: 'GET', path: ['certificates'], operation: 'ListCertificates' },
  { method: 'GET', path: ['certificates', '*'], operation: 'DescribeCertificate' },
  { method: 'PUT', path: ['certificates', '*'], operation: 'UpdateCertificate' },
  { method: 'DELETE', path: ['certificates', '*'], operation: 'DeleteCertificate' },
  { method: 'GET', path: ['endpoint'], operation: 'DescribeEndpoint' },
  { method: 'GET', path: ['things'], operation: 'ListThings' },
  { method: 'POST', path: ['things', '*'], operation: 'CreateThing' },
  { method: 'GET', path: ['things', '*'], operation: 'DescribeThing' },
  { method: 'DELETE', path: ['things', '*'], operation: 'DeleteThing' },
  { method: 'PUT', path: ['things', '*', 'principals'], operation: 'AttachThingPrincipal' },
  { method: 'DELETE', path: ['things', '*', 'principals'], operation: 'DetachThingPrincipal' },
  { method: 'GET', path: ['things', '*', 'principals'], operation: 'ListThingPrincipals' },
  { method: 'GET', path: ['principals', 'things'], operation: 'ListPrincipalThings' },
  { method: 'POST', path: ['policies', '*'], operation: 'CreatePolicy' },
  { method: 'GET', path: ['policies', '*'], operation: 'GetPolicy' },
  { method: 'DELETE', path: ['policies', '*'], operation: 'DeletePolicy' },
  { method: 'PUT', path: ['target-policies', '*'], operation: 'AttachPolicy' },
  { method: 'POST', path: ['target-policies', '*'], operation: 'DetachPolicy' },
  { method: 'POST', path: ['attached-policies', '*'], operation: 'ListAttachedPolicies' },
  { method: 'POST', path: ['policy-targets', '*'], operation: 'ListTargetsForPolicy' },
  { method: 'POST', path: [TEMPLATES], operation: 'CreateProvisioningTemplate' },
  { method: 'GET', path: [TEMPLATES], operation: 'ListProvisioningTemplates' },
  { method: 'GET', path: [TEMPLATES, '*'], operation: 'DescribeProvisioningTemplate' },
  { method: 'PATCH', path: [TEMPLATES, '*'], operation: 'UpdateProvisioningTemplate' },
  { method: 'DELETE', path: [TEMPLATES, '*'], operation: 'DeleteProvisioningTemplate' },
  // PUT, unlike the routes of a group: a group named like these stays reachable.
  { method: 'PUT', path: [GROUPS, 'addThingToThingGroup'], operation: 'AddThingToThingGroup' },
  {
    method: 'PUT',
    path: [GROUPS, 'removeThingFromThingGroup'],
    operation: 'RemoveThingFromThingGroup',
  },
  { method: 'POST', path: [GROUPS, '*'], operation: 'CreateThingGroup' },
  { method: 'GET', path: [GROUPS, '*'], operation: 'DescribeThingGroup' },
  { method: 'DELETE', path: [GROUPS, '*'], operation: 'DeleteThingGroup' },
  { method: 'GET', path: [GROUPS, '*', 'things'], operation: 'ListThingsInThingGroup' },
  { method: 'GET', path: ['things', '*', GROUPS], operation: 'ListThingGroupsForThing' },
] as const satisfies readonly Route[];

/** Name of an operation the control plane answers, e.g. `CreateThing`. */
export type IotOperation = (typeof ROUTES)[number]['operation'];

/** Operation names the control plane answers (for docs, throttling and error messages). */
export const IOT_OPERATIONS: readonly string[] = ROUTES.map((r) => r.operation);

/** A request matched to its operation, with the path segments its route captured. */
export interface MatchedRoute {
  operation: IotOperation;
  params: string[];
}

/**
 * Finds the route for a request.
 * @throws IotServiceError `MethodNotAllowedException` (405) when the path is known but not the
 *   method, `UnknownOperationException` (404) when no route has this path.
 */
export function matchRoute(method: string, rawPath: string): MatchedRoute {
  const segments = rawPath.split('/').filter((s) => s.length > 0);
  const allowed: string[] = [];
  for (const route of ROUTES) {
    if (route.path.length !== segments.length) continue;
    const params: string[] = [];
    const matches = route.path.every((part: string, i) => {
      const segment = segments[i] ?? '';
      if (part === '*') {
        params.push(safeDecode(segment));
        return true;
      }
      return part === segment;
    });
    if (!matches) continue;
    if (route.method === method) return { operation: route.operation, params };
    allowed.push(route.method);
  }
  if (allowed.length > 0) {
    throw new IotServiceError(
      'MethodNotAllowedException',
      405,
      `local-cloud IoT: ${method} ${rawPath} is not supported; this path accepts ${allowed.join(', ')}`,
    );
  }
  throw new IotServiceError(
    'UnknownOperationException',
    404,
    `local-cloud IoT does not emulate ${method} ${rawPath}. Emulated operations: ${IOT_OPERATIONS.join(', ')}`,
  );
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new IotServiceError(
      'InvalidRequestException',
      400,
      `Malformed percent-encoding in path segment ${segment}`,
    );
  }
}
