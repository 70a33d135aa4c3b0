import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CsrRejectedError, type CertificateAuthority } from './certificate-authority';
import { IotServiceError, isMalformedPolicyError } from './errors';
import {
  BodyTooLargeError,
  readBody,
  requestLogLine,
  startHttpService,
  type HttpService,
} from './http-service';
import {
  IotRegistry,
  type CertificateRecord,
  type CertificateStatus,
  type ThingRecord,
} from './iot-registry';
import { validatePolicyDocument } from './policy-evaluator';
import { TokenBucket } from './token-bucket';

/** Largest request body the control plane reads (policies are ≤ 2 KiB, CSRs a few KiB). */
export const MAX_IOT_BODY_BYTES = 256 * 1024;

/** What the control plane needs; built by `startLocalCloud`. */
export interface IotControlPlaneOptions {
  port: number;
  region: string;
  accountId: string;
  dataEndpoint: string;
  registry: IotRegistry;
  ca: CertificateAuthority;
  throttle: Partial<Record<string, number>>;
  detachDelayMs: number;
  log: ((line: string) => void) | undefined;
  /** Called when a certificate stops being usable (not ACTIVE, or deleted). */
  onCertificateUnusable: (certificateId: string) => void;
}

/** The running control plane. */
export interface IotControlPlane extends HttpService {
  /** Resolves once every delayed DetachThingPrincipal has taken effect. */
  settle(): Promise<void>;
}

type Query = URLSearchParams;
interface Call {
  params: string[];
  query: Query;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}
type Handler = (call: Call) => unknown;
interface Route {
  method: string;
  /** Path segments; `*` captures one segment (percent-decoded). */
  path: string[];
  operation: string;
}

const ROUTES: Route[] = [
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
];

/** Operation names the control plane answers (for docs, throttling and error messages). */
export const IOT_OPERATIONS: readonly string[] = ROUTES.map((r) => r.operation);

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const CERTIFICATE_ID = /^(0x)?[a-fA-F0-9]{64}$/;

/**
 * Starts the IoT control plane: a REST-JSON HTTP server answering what
 * `@aws-sdk/client-iot` sends, with AWS's status codes, error names and rules.
 */
export async function startIotControlPlane(
  options: IotControlPlaneOptions,
): Promise<IotControlPlane> {
  const { registry, ca, region, accountId } = options;
  const arnPrefix = `arn:aws:iot:${region}:${accountId}`;
  const buckets = new Map<string, TokenBucket>();
  for (const [operation, tps] of Object.entries(options.throttle)) {
    if (tps !== undefined && tps > 0) buckets.set(operation, new TokenBucket(tps));
  }
  const pendingDetaches = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();

  const certificate = (rawId: string | undefined): CertificateRecord => {
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
  };
  const thing = (name: string | undefined): ThingRecord => {
    const record = registry.things.get(validThingName(name));
    if (record === undefined) {
      throw new IotServiceError('ResourceNotFoundException', 404, `Thing ${name} cannot be found.`);
    }
    return record;
  };
  /** AWS answers 404 when a principal names a certificate it does not know. */
  const requireCertificatePrincipal = (arn: string): void => {
    if (registry.certificateByArn(arn) === undefined) {
      throw new IotServiceError(
        'ResourceNotFoundException',
        404,
        'The certificate given in the principal does not exist.',
      );
    }
  };
  const policy = (name: string | undefined) => {
    const record = registry.policies.get(validPolicyName(name));
    if (record === undefined) {
      throw new IotServiceError(
        'ResourceNotFoundException',
        404,
        `Policy not found (name=${name})`,
      );
    }
    return record;
  };
  const principalOf = (call: Call): string => {
    const principal = call.headers['x-amzn-principal'];
    if (typeof principal !== 'string' || principal.length === 0) {
      throw validationError('principal', String(principal), 'Member must not be null');
    }
    return principal;
  };
  const registerCertificate = async (pem: string, id: string, active: boolean) => {
    const now = Date.now();
    const record: CertificateRecord = {
      certificateId: id,
      certificateArn: `${arnPrefix}:cert/${id}`,
      certificatePem: pem,
      status: active ? 'ACTIVE' : 'INACTIVE',
      creationDate: now,
      lastModifiedDate: now,
      generationId: IotRegistry.generationId(),
    };
    registry.certificates.set(id, record);
    await registry.save();
    return record;
  };

  const handlers: Record<string, Handler> = {
    CreateKeysAndCertificate: async ({ query }) => {
      const issued = await ca.createKeysAndCertificate();
      const record = await registerCertificate(
        issued.pem,
        issued.certificateId,
        query.get('setAsActive') === 'true',
      );
      return {
        certificateArn: record.certificateArn,
        certificateId: record.certificateId,
        certificatePem: record.certificatePem,
        keyPair: { PublicKey: issued.publicKeyPem, PrivateKey: issued.privateKeyPem },
      };
    },
    CreateCertificateFromCsr: async ({ query, body }) => {
      const csr = body['certificateSigningRequest'];
      if (typeof csr !== 'string' || csr.length === 0) {
        throw validationError('certificateSigningRequest', String(csr), 'Member must not be null');
      }
      let issued;
      try {
        issued = await ca.signCsr(csr);
      } catch (error) {
        if (error instanceof CsrRejectedError) {
          throw new IotServiceError('InvalidRequestException', 400, error.message, {
            cause: error,
          });
        }
        throw error;
      }
      const record = await registerCertificate(
        issued.pem,
        issued.certificateId,
        query.get('setAsActive') === 'true',
      );
      return {
        certificateArn: record.certificateArn,
        certificateId: record.certificateId,
        certificatePem: record.certificatePem,
      };
    },
    DescribeCertificate: ({ params }) => {
      const record = certificate(params[0]);
      return {
        certificateDescription: {
          certificateArn: record.certificateArn,
          certificateId: record.certificateId,
          status: record.status,
          certificatePem: record.certificatePem,
          ownedBy: accountId,
          creationDate: record.creationDate / 1000,
          lastModifiedDate: record.lastModifiedDate / 1000,
          customerVersion: 1,
          generationId: record.generationId,
          validity: {
            notBefore: record.creationDate / 1000 - 60,
            notAfter: Date.parse('2049-12-31T23:59:59Z') / 1000,
          },
          certificateMode: 'DEFAULT',
        },
      };
    },
    ListCertificates: ({ query }) => {
      const ascending = query.get('isAscendingOrder') === 'true';
      const all = [...registry.certificates.values()].sort((a, b) =>
        ascending ? a.creationDate - b.creationDate : b.creationDate - a.creationDate,
      );
      const page = paginate(all, query.get('marker'), pageSize(query.get('pageSize'), 25, 250));
      return {
        certificates: page.items.map((c) => ({
          certificateArn: c.certificateArn,
          certificateId: c.certificateId,
          status: c.status,
          certificateMode: 'DEFAULT',
          creationDate: c.creationDate / 1000,
        })),
        nextMarker: page.next,
      };
    },
    UpdateCertificate: async ({ params, query }) => {
      const record = certificate(params[0]);
      const status = query.get('newStatus') ?? '';
      if (status === 'PENDING_TRANSFER' || status === 'PENDING_ACTIVATION') {
        throw new IotServiceError(
          'InvalidRequestException',
          400,
          `Cannot set certificate status to ${status} with UpdateCertificate`,
        );
      }
      if (!['ACTIVE', 'INACTIVE', 'REVOKED', 'REGISTER_INACTIVE'].includes(status)) {
        throw validationError(
          'newStatus',
          status,
          'Member must satisfy enum value set: [ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION]',
        );
      }
      if (status === 'REGISTER_INACTIVE') {
        throw new IotServiceError(
          'InvalidRequestException',
          400,
          'Cannot set certificate status to REGISTER_INACTIVE',
        );
      }
      if (record.status === 'REVOKED' && status !== 'REVOKED') {
        throw new IotServiceError(
          'CertificateStateException',
          406,
          `Certificate is revoked and cannot change status (certificateId: ${record.certificateId})`,
        );
      }
      if (record.status !== status) {
        record.status = status as CertificateStatus;
        record.lastModifiedDate = Date.now();
        await registry.save();
      }
      if (status !== 'ACTIVE') options.onCertificateUnusable(record.certificateId);
      return undefined;
    },
    DeleteCertificate: async ({ params, query }) => {
      const record = certificate(params[0]);
      if (record.status === 'ACTIVE') {
        throw new IotServiceError(
          'CertificateStateException',
          406,
          `Certificate must be deactivated (not ACTIVE) before deletion. (certificateId: ${record.certificateId})`,
        );
      }
      if (registry.thingsFor(record.certificateArn).length > 0) {
        throw new IotServiceError(
          'DeleteConflictException',
          409,
          `Things must be detached before deletion (arn: ${record.certificateArn})`,
        );
      }
      const attached = registry.policiesFor(record.certificateArn);
      if (attached.length > 0 && query.get('forceDelete') !== 'true') {
        throw new IotServiceError(
          'DeleteConflictException',
          409,
          `Certificate policies must be detached before deletion (arn: ${record.certificateArn})`,
        );
      }
      for (const p of attached)
        registry.policyTargets.get(p.policyName)?.delete(record.certificateArn);
      registry.certificates.delete(record.certificateId);
      await registry.save();
      options.onCertificateUnusable(record.certificateId);
      return undefined;
    },
    DescribeEndpoint: ({ query }) => {
      const type = query.get('endpointType') ?? 'iot:Data';
      if (!['iot:Data', 'iot:Data-ATS', 'iot:CredentialProvider', 'iot:Jobs'].includes(type)) {
        throw new IotServiceError(
          'InvalidRequestException',
          400,
          `Endpoint type ${type} is not valid.`,
        );
      }
      return { endpointAddress: options.dataEndpoint };
    },
    CreateThing: async ({ params, body }) => {
      const name = validThingName(params[0]);
      const payload = body['attributePayload'] as
        { attributes?: Record<string, string> } | undefined;
      const attributes = payload?.attributes ?? {};
      const thingTypeName =
        typeof body['thingTypeName'] === 'string' ? body['thingTypeName'] : undefined;
      const existing = registry.things.get(name);
      if (existing !== undefined) {
        const same =
          existing.thingTypeName === thingTypeName &&
          JSON.stringify(sortKeys(existing.attributes)) === JSON.stringify(sortKeys(attributes));
        if (!same) {
          throw new IotServiceError(
            'ResourceAlreadyExistsException',
            409,
            `Thing ${name} already exists in account with different attributes`,
          );
        }
        return { thingName: name, thingArn: existing.thingArn, thingId: existing.thingId };
      }
      const record: ThingRecord = {
        thingName: name,
        thingId: randomUUID(),
        thingArn: `${arnPrefix}:thing/${name}`,
        thingTypeName,
        attributes,
        version: 1,
      };
      registry.things.set(name, record);
      await registry.save();
      return { thingName: name, thingArn: record.thingArn, thingId: record.thingId };
    },
    DescribeThing: ({ params }) => {
      const record = thing(params[0]);
      return {
        defaultClientId: record.thingName,
        thingName: record.thingName,
        thingId: record.thingId,
        thingArn: record.thingArn,
        thingTypeName: record.thingTypeName,
        attributes: record.attributes,
        version: record.version,
      };
    },
    DeleteThing: async ({ params, query }) => {
      const name = validThingName(params[0]);
      const record = registry.things.get(name);
      // AWS answers success for a thing that does not exist (DeleteThing is idempotent).
      if (record === undefined) return undefined;
      const expected = query.get('expectedVersion');
      if (expected !== null && Number(expected) !== record.version) {
        throw new IotServiceError(
          'VersionConflictException',
          409,
          `The version for thing ${name} does not match the expected version.`,
        );
      }
      if ((registry.thingPrincipals.get(name)?.size ?? 0) > 0) {
        throw new IotServiceError(
          'InvalidRequestException',
          400,
          `Cannot delete thing ${name}: principals are still attached. Detach them first (DetachThingPrincipal).`,
        );
      }
      registry.things.delete(name);
      registry.thingPrincipals.delete(name);
      await registry.save();
      return undefined;
    },
    ListThings: ({ query }) => {
      const attributeName = query.get('attributeName');
      const attributeValue = query.get('attributeValue');
      const typeName = query.get('thingTypeName');
      const all = [...registry.things.values()]
        .filter((t) => typeName === null || t.thingTypeName === typeName)
        .filter(
          (t) =>
            attributeName === null ||
            (attributeValue === null
              ? attributeName in t.attributes
              : t.attributes[attributeName] === attributeValue),
        )
        .sort((a, b) => a.thingName.localeCompare(b.thingName));
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 50, 250),
      );
      return {
        things: page.items.map((t) => ({
          thingName: t.thingName,
          thingTypeName: t.thingTypeName,
          thingArn: t.thingArn,
          attributes: t.attributes,
          version: t.version,
        })),
        nextToken: page.next,
      };
    },
    CreatePolicy: async ({ params, body }) => {
      const name = validPolicyName(params[0]);
      const document = body['policyDocument'];
      if (typeof document !== 'string' || document.length === 0) {
        throw validationError('policyDocument', String(document), 'Member must not be null');
      }
      if (registry.policies.has(name)) {
        throw new IotServiceError(
          'ResourceAlreadyExistsException',
          409,
          `Policy cannot be created - name already exists (name=${name})`,
        );
      }
      try {
        validatePolicyDocument(document);
      } catch (error) {
        if (isMalformedPolicyError(error)) {
          throw new IotServiceError(
            'MalformedPolicyException',
            400,
            `Policy document is malformed: ${error.message}`,
          );
        }
        throw error;
      }
      const now = Date.now();
      const record = {
        policyName: name,
        policyArn: `${arnPrefix}:policy/${name}`,
        policyDocument: document,
        creationDate: now,
        lastModifiedDate: now,
        generationId: IotRegistry.generationId(),
      };
      registry.policies.set(name, record);
      await registry.save();
      return {
        policyName: name,
        policyArn: record.policyArn,
        policyDocument: document,
        policyVersionId: '1',
      };
    },
    GetPolicy: ({ params }) => {
      const record = policy(params[0]);
      return {
        policyName: record.policyName,
        policyArn: record.policyArn,
        policyDocument: record.policyDocument,
        defaultVersionId: '1',
        creationDate: record.creationDate / 1000,
        lastModifiedDate: record.lastModifiedDate / 1000,
        generationId: record.generationId,
      };
    },
    DeletePolicy: async ({ params }) => {
      const record = policy(params[0]);
      if ((registry.policyTargets.get(record.policyName)?.size ?? 0) > 0) {
        throw new IotServiceError(
          'DeleteConflictException',
          409,
          `The policy cannot be deleted as the policy is attached to one or more principals (name=${record.policyName})`,
        );
      }
      registry.policies.delete(record.policyName);
      registry.policyTargets.delete(record.policyName);
      await registry.save();
      return undefined;
    },
    AttachPolicy: async ({ params, body }) => {
      const record = policy(params[0]);
      const target = requireTarget(body);
      if (target.includes(':cert/')) requireCertificatePrincipal(target);
      const targets = registry.policyTargets.get(record.policyName) ?? new Set<string>();
      targets.add(target);
      registry.policyTargets.set(record.policyName, targets);
      await registry.save();
      return undefined;
    },
    DetachPolicy: async ({ params, body }) => {
      const record = policy(params[0]);
      const target = requireTarget(body);
      registry.policyTargets.get(record.policyName)?.delete(target);
      await registry.save();
      return undefined;
    },
    ListAttachedPolicies: ({ params, query }) => {
      const target = params[0] ?? '';
      if (target.includes(':cert/')) requireCertificatePrincipal(target);
      const all = registry.policiesFor(target);
      const page = paginate(all, query.get('marker'), pageSize(query.get('pageSize'), 25, 250));
      return {
        policies: page.items.map((p) => ({ policyName: p.policyName, policyArn: p.policyArn })),
        nextMarker: page.next,
      };
    },
    ListTargetsForPolicy: ({ params, query }) => {
      const record = policy(params[0]);
      const all = [...(registry.policyTargets.get(record.policyName) ?? [])];
      const page = paginate(all, query.get('marker'), pageSize(query.get('pageSize'), 25, 250));
      return { targets: page.items, nextMarker: page.next };
    },
    AttachThingPrincipal: async (call) => {
      const record = thing(call.params[0]);
      const principal = principalOf(call);
      requireCertificatePrincipal(principal);
      const principals = registry.thingPrincipals.get(record.thingName) ?? new Set<string>();
      principals.add(principal);
      registry.thingPrincipals.set(record.thingName, principals);
      await registry.save();
      return {};
    },
    DetachThingPrincipal: (call) => {
      const record = thing(call.params[0]);
      const principal = principalOf(call);
      const detach = async () => {
        registry.thingPrincipals.get(record.thingName)?.delete(principal);
        await registry.save();
      };
      if (options.detachDelayMs <= 0) return detach().then(() => ({}));
      // AWS applies the detach asynchronously: it is visible only after a delay.
      const pending = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          detach().then(resolve, resolve);
        }, options.detachDelayMs);
        timers.add(timer);
      });
      pendingDetaches.add(pending);
      void pending.then(() => pendingDetaches.delete(pending));
      return {};
    },
    ListThingPrincipals: ({ params, query }) => {
      const record = thing(params[0]);
      const all = [...(registry.thingPrincipals.get(record.thingName) ?? [])];
      const page = paginate(
        all,
        query.get('nextToken'),
        pageSize(query.get('maxResults'), 25, 250),
      );
      return { principals: page.items, nextToken: page.next };
    },
    ListPrincipalThings: (call) => {
      const principal = principalOf(call);
      requireCertificatePrincipal(principal);
      const all = registry.thingsFor(principal);
      const page = paginate(
        all,
        call.query.get('nextToken'),
        pageSize(call.query.get('maxResults'), 25, 250),
      );
      return { things: page.items, nextToken: page.next };
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
    let operation = 'Unknown';
    let status = 200;
    let payload: unknown;
    let errorCode: string | undefined;
    try {
      const route = matchRoute(method, rawPath);
      operation = route.route.operation;
      const auth = req.headers['authorization'];
      if (typeof auth !== 'string' || !auth.startsWith('AWS4-HMAC-SHA256')) {
        throw new IotServiceError(
          'MissingAuthenticationTokenException',
          403,
          'Missing Authentication Token: requests must be signed with AWS Signature Version 4 (any credentials work locally)',
        );
      }
      const bucket = buckets.get(operation);
      if (bucket !== undefined && !bucket.tryTake()) {
        throw new IotServiceError('ThrottlingException', 400, 'Rate exceeded');
      }
      const raw = await readBody(req, MAX_IOT_BODY_BYTES).catch((error: unknown) => {
        if (error instanceof BodyTooLargeError) {
          throw new IotServiceError('RequestEntityTooLargeException', 413, error.message);
        }
        throw error;
      });
      const body = parseJsonBody(raw);
      const handler = handlers[operation];
      if (handler === undefined)
        throw new IotServiceError('InternalFailureException', 500, `no handler for ${operation}`);
      payload = await handler({ params: route.params, query, headers: req.headers, body });
    } catch (error) {
      if (!(error instanceof IotServiceError)) throw error;
      status = error.status;
      errorCode = error.code;
      payload = { message: error.message };
    }
    const text = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    };
    if (errorCode !== undefined) headers['x-amzn-errortype'] = errorCode;
    res.writeHead(status, headers);
    res.end(text);
    options.log?.(
      requestLogLine({
        service: 'iot',
        operation,
        method,
        status,
        error: errorCode,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      }),
    );
  };

  const service = await startHttpService(options.port, handle, (error) =>
    options.log?.(requestLogLine({ service: 'iot', fault: String(error) })),
  );
  return {
    port: service.port,
    settle: async () => {
      await Promise.all([...pendingDetaches]);
    },
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await service.close();
    },
  };
}

function matchRoute(method: string, rawPath: string): { route: Route; params: string[] } {
  const segments = rawPath.split('/').filter((s) => s.length > 0);
  const allowed: string[] = [];
  for (const route of ROUTES) {
    if (route.path.length !== segments.length) continue;
    const params: string[] = [];
    const matches = route.path.every((part, i) => {
      const segment = segments[i] ?? '';
      if (part === '*') {
        params.push(safeDecode(segment));
        return true;
      }
      return part === segment;
    });
    if (!matches) continue;
    if (route.method === method) return { route, params };
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

function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new IotServiceError('SerializationException', 400, 'Request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new IotServiceError('SerializationException', 400, 'Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function validationError(member: string, value: string, constraint: string): IotServiceError {
  return new IotServiceError(
    'InvalidRequestException',
    400,
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

function validCertificateId(id: string | undefined): string {
  if (id === undefined || !CERTIFICATE_ID.test(id)) {
    throw validationError(
      'certificateId',
      id ?? '',
      'Member must satisfy regular expression pattern: (0x)?[a-fA-F0-9]+ and have length 64',
    );
  }
  return id.replace(/^0x/, '').toLowerCase();
}

function validThingName(name: string | undefined): string {
  if (name === undefined || !THING_NAME.test(name)) {
    throw validationError(
      'thingName',
      name ?? '',
      'Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+',
    );
  }
  return name;
}

function validPolicyName(name: string | undefined): string {
  if (name === undefined || !POLICY_NAME.test(name)) {
    throw validationError(
      'policyName',
      name ?? '',
      'Member must satisfy regular expression pattern: [\\w+=,.@-]+',
    );
  }
  return name;
}

function requireTarget(body: Record<string, unknown>): string {
  const target = body['target'];
  if (typeof target !== 'string' || target.length === 0) {
    throw validationError('target', String(target), 'Member must not be null');
  }
  return target;
}

function pageSize(raw: string | null, fallback: number, max: number): number {
  if (raw === null) return fallback;
  const size = Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > max) {
    throw new IotServiceError(
      'InvalidRequestException',
      400,
      `Page size must be between 1 and ${max}`,
    );
  }
  return size;
}

/** Offset paging with an opaque token, like AWS's markers. */
function paginate<T>(all: T[], token: string | null, size: number): { items: T[]; next?: string } {
  let start = 0;
  if (token !== null && token.length > 0) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) {
      throw new IotServiceError(
        'InvalidRequestException',
        400,
        'The pagination token is not valid',
      );
    }
  }
  const items = all.slice(start, start + size);
  const end = start + items.length;
  return end < all.length
    ? { items, next: Buffer.from(String(end)).toString('base64url') }
    : { items };
}

function sortKeys(record: Record<string, string>): Array<[string, string]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}
