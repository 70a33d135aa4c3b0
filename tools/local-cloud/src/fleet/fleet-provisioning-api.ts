import {
  CsrRejectedError,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../certificate-authority';
import {
  FleetProvisioningError,
  PreProvisioningHookError,
  ProvisioningTemplateError,
} from '../errors';
import { requestLogLine } from '../http-service';
import { IotRegistry, type ProvisioningTemplateRecord } from '../iot-registry';
import { TokenBucket } from '../token-bucket';
import { OwnershipTokens } from './ownership-tokens';
import { askPreProvisioningHook, type LambdaInvoker } from './pre-provisioning-hook';
import { provisioningRequests, type ProvisioningRoleCheck } from './provisioning-role';
import { applyProvisioningPlan } from './registration';
import { parseTemplateBody, type TemplateFeatures } from './template-body';
import { evaluateTemplate } from './template-evaluation';

/** The operations of the device provisioning MQTT API. */
export type FleetOperation =
  'CreateKeysAndCertificate' | 'CreateCertificateFromCsr' | 'RegisterThing';

/**
 * Requests per second per account of each operation (token buckets, burst = rate). 10/s is
 * the RegisterThing rate of AWS IoT Core's published quotas; the two certificate operations
 * use the same 10/s (*unverified*: the local cloud keeps them configurable and never faster).
 */
export const FLEET_PROVISIONING_RATES: Readonly<Record<FleetOperation, number>> = {
  CreateKeysAndCertificate: 10,
  CreateCertificateFromCsr: 10,
  RegisterThing: 10,
};

/** Who sent a request: the MQTT connection (its client id and claim certificate). */
export interface FleetCaller {
  clientId: string;
  certificateId: string;
}

/** The answer to a request, for its `/accepted` or `/rejected` topic. */
export interface FleetReply {
  accepted: boolean;
  payload: Record<string, unknown>;
}

/** What {@link FleetProvisioningApi} needs. */
export interface FleetProvisioningApiOptions {
  registry: IotRegistry;
  ca: CertificateAuthority;
  /** `arn:aws:iot:<region>:<account>` */
  arnPrefix: string;
  /** Epoch milliseconds now, for the ownership tokens' hour. */
  clock: () => number;
  /** Requests per second per operation. */
  rates: Readonly<Record<FleetOperation, number>>;
  templateFeatures: TemplateFeatures;
  /** The current Lambda invoker (it can be set after the cloud started). */
  lambdaInvoker: () => LambdaInvoker | undefined;
  /** The hook's time limit. @default 5000 */
  hookTimeoutMs?: number;
  /** Whether the template's provisioning role may do what a registration does. @default no check */
  provisioningRole?: ProvisioningRoleCheck;
  log: ((line: string) => void) | undefined;
}

/**
 * AWS IoT's device provisioning MQTT API
 * (https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html) without the
 * MQTT: a request payload in, the reply out. CreateKeysAndCertificate and
 * CreateCertificateFromCsr make a PENDING_ACTIVATION certificate and an ownership token;
 * RegisterThing redeems the token through a provisioning template (pre-provisioning hook,
 * evaluation, all-or-nothing registration).
 */
export class FleetProvisioningApi {
  readonly tokens: OwnershipTokens;
  private readonly buckets = new Map<FleetOperation, TokenBucket>();

  constructor(private readonly options: FleetProvisioningApiOptions) {
    this.tokens = new OwnershipTokens(options.registry, options.clock);
    for (const [operation, rate] of Object.entries(options.rates)) {
      if (rate > 0) this.buckets.set(operation as FleetOperation, new TokenBucket(rate));
    }
  }

  /** Answers one request; never throws (every failure is a rejected reply). */
  async handle(
    operation: FleetOperation,
    templateName: string | undefined,
    payload: Buffer,
    caller: FleetCaller,
  ): Promise<FleetReply> {
    const started = performance.now();
    let reply: FleetReply;
    try {
      await this.expireOwnershipTokens();
      if (this.buckets.get(operation)?.tryTake() === false) {
        throw new FleetProvisioningError(429, 'ThrottlingException', 'Rate exceeded');
      }
      const request = parsePayload(payload, operation);
      const accepted =
        operation === 'RegisterThing'
          ? await this.registerThing(templateName ?? '', request, caller)
          : await this.createCertificate(operation, request);
      reply = { accepted: true, payload: accepted };
    } catch (error) {
      if (!(error instanceof FleetProvisioningError)) {
        this.options.log?.(
          requestLogLine({ service: 'fleet-provisioning', operation, fault: String(error) }),
        );
      }
      reply = { accepted: false, payload: rejection(error) };
    }
    this.options.log?.(
      requestLogLine({
        service: 'fleet-provisioning',
        operation,
        clientId: caller.clientId,
        templateName,
        status: reply.accepted ? 200 : (reply.payload['statusCode'] as number),
        error: reply.accepted ? undefined : (reply.payload['errorCode'] as string),
        reason: reply.accepted ? undefined : (reply.payload['errorMessage'] as string),
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      }),
    );
    return reply;
  }

  /**
   * Drops expired ownership tokens and deletes their still-pending certificates (also done
   * before every request).
   * @returns the ids of the certificates deleted.
   */
  async expireOwnershipTokens(): Promise<string[]> {
    const deleted = this.tokens.expire();
    if (deleted.length > 0) {
      for (const certificateId of deleted) {
        this.options.log?.(
          requestLogLine({ service: 'fleet-provisioning', event: 'token-expired', certificateId }),
        );
      }
      await this.options.registry.save();
    }
    return deleted;
  }

  private async createCertificate(
    operation: Exclude<FleetOperation, 'RegisterThing'>,
    request: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { ca, registry, arnPrefix } = this.options;
    let issued: IssuedCertificate & { privateKeyPem?: string };
    if (operation === 'CreateKeysAndCertificate') {
      issued = await ca.createKeysAndCertificate();
    } else {
      const csr = request['certificateSigningRequest'];
      if (typeof csr !== 'string' || csr.length === 0) {
        throw invalidRequest('certificateSigningRequest is required');
      }
      try {
        issued = await ca.signCsr(csr);
      } catch (error) {
        if (error instanceof CsrRejectedError) throw invalidRequest(error.message, error);
        throw error;
      }
    }
    const now = Date.now();
    registry.certificates.set(issued.certificateId, {
      certificateId: issued.certificateId,
      certificateArn: `${arnPrefix}:cert/${issued.certificateId}`,
      certificatePem: issued.pem,
      status: 'PENDING_ACTIVATION',
      creationDate: now,
      lastModifiedDate: now,
      generationId: IotRegistry.generationId(),
    });
    const certificateOwnershipToken = this.tokens.issue(issued.certificateId);
    await registry.save();
    return {
      certificateId: issued.certificateId,
      certificatePem: issued.pem,
      ...(issued.privateKeyPem === undefined ? {} : { privateKey: issued.privateKeyPem }),
      certificateOwnershipToken,
    };
  }

  private async registerThing(
    templateName: string,
    request: Record<string, unknown>,
    caller: FleetCaller,
  ): Promise<Record<string, unknown>> {
    const { registry, arnPrefix } = this.options;
    const template = registry.provisioningTemplates.get(templateName);
    if (template === undefined) {
      throw new FleetProvisioningError(
        404,
        'ResourceNotFoundException',
        `The provisioning template ${templateName} does not exist`,
      );
    }
    if (!template.enabled || template.type !== 'FLEET_PROVISIONING') {
      throw invalidRequest(
        `The provisioning template ${templateName} is ${template.enabled ? 'not a fleet provisioning template' : 'disabled'}`,
      );
    }
    const certificateId = this.tokens.certificateFor(request['certificateOwnershipToken']);
    let parameters = stringMap(request['parameters'], 'parameters');
    if (template.preProvisioningHook !== undefined) {
      parameters = await this.hookParameters(template, certificateId, parameters, caller);
    }
    let plan;
    try {
      const parsed = parseTemplateBody(template.templateBody, this.options.templateFeatures);
      plan = evaluateTemplate(parsed, { parameters, certificateId });
    } catch (error) {
      if (!(error instanceof ProvisioningTemplateError)) throw error;
      throw new FleetProvisioningError(
        400,
        'ResourceRegistrationFailureException',
        `The provisioning template could not be evaluated: ${error.message}`,
        { cause: error },
      );
    }
    const certificateArn = `${arnPrefix}:cert/${certificateId}`;
    await this.options.provisioningRole?.(
      template.provisioningRoleArn,
      provisioningRequests(registry, arnPrefix, plan, certificateArn),
    );
    // Checked again after the awaits: a second request with the same token may have won.
    this.tokens.certificateFor(request['certificateOwnershipToken']);
    const result = applyProvisioningPlan(registry, arnPrefix, plan, certificateId);
    this.tokens.forget(certificateId);
    await registry.save();
    return {
      deviceConfiguration: plan.deviceConfiguration,
      ...(result.thingName === undefined ? {} : { thingName: result.thingName }),
    };
  }

  /** The parameters after the pre-provisioning hook allowed the request and overrode some. */
  private async hookParameters(
    template: ProvisioningTemplateRecord,
    certificateId: string,
    parameters: Record<string, string>,
    caller: FleetCaller,
  ): Promise<Record<string, string>> {
    const hook = template.preProvisioningHook;
    if (hook === undefined) return parameters;
    const certificate = this.options.registry.certificates.get(certificateId);
    let decision;
    try {
      decision = await askPreProvisioningHook(
        this.options.lambdaInvoker(),
        hook.targetArn,
        {
          claimCertificateId: caller.certificateId,
          certificateId,
          certificatePem: certificate?.certificatePem ?? '',
          templateArn: template.templateArn,
          clientId: caller.clientId,
          parameters,
        },
        this.options.hookTimeoutMs,
      );
    } catch (error) {
      if (!(error instanceof PreProvisioningHookError)) throw error;
      // "If the Lambda function fails, the provisioning request fails with ACCESS_DENIED";
      // the reason goes to the log (AWS: CloudWatch Logs), not to the device.
      this.options.log?.(
        requestLogLine({
          service: 'fleet-provisioning',
          event: 'hook-failed',
          error: error.message,
        }),
      );
      throw accessDenied('the pre-provisioning hook failed');
    }
    if (!decision.allowProvisioning) throw accessDenied('the pre-provisioning hook denied it');
    return { ...parameters, ...decision.parameterOverrides };
  }
}

function parsePayload(payload: Buffer, operation: FleetOperation): Record<string, unknown> {
  if (payload.length === 0 && operation === 'CreateKeysAndCertificate') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    throw invalidRequest('The request payload is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest('The request payload must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** RegisterThing `parameters`: string keys (≤ 2048) to string values (≤ 4096). */
function stringMap(value: unknown, member: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidRequest(`${member} must be a map of strings`);
  }
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string' || key.length > 2048 || item.length > 4096) {
      throw invalidRequest(
        `${member}.${key.slice(0, 64)} must be a string of at most 4096 characters`,
      );
    }
    result[key] = item;
  }
  return result;
}

function rejection(error: unknown): Record<string, unknown> {
  const refused =
    error instanceof FleetProvisioningError
      ? error
      : new FleetProvisioningError(500, 'InternalFailureException', 'An unexpected error occurred');
  return {
    statusCode: refused.statusCode,
    errorCode: refused.errorCode,
    errorMessage: refused.message,
  };
}

function invalidRequest(message: string, cause?: unknown): FleetProvisioningError {
  return new FleetProvisioningError(400, 'InvalidRequestException', message, { cause });
}

function accessDenied(why: string): FleetProvisioningError {
  return new FleetProvisioningError(403, 'AccessDenied', `Provisioning was denied: ${why}`);
}
