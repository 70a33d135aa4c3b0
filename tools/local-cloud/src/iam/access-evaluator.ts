import {
  getDenialReasons,
  runSimulation,
  type RunSimulationResults,
} from '@cloud-copilot/iam-simulate';
import type { RoleSessionPrincipal } from './identity-registry';
import type { PolicyDocument } from './policy-documents';

/** One authorization question: may the principal do `action` on `resource`? */
export interface AccessRequest {
  /** `service:Action`, e.g. `s3:GetObject`. */
  action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions. */
  resource: string;
  /** Service condition keys of this request (`s3:prefix`, `kms:ViaService`, ...). */
  context?: Record<string, string | string[]>;
  /** The resource's policy (bucket policy, key policy), evaluated with the identity policies. */
  resourcePolicy?: PolicyDocument;
  /**
   * A service makes this call for the principal (S3 calling KMS): `aws:ViaAWSService` is true,
   * the call travels over TLS and has no `aws:SourceIp`.
   */
  viaService?: boolean;
}

/** How the request reached the local cloud. */
export interface Transport {
  /** HTTPS (`aws:SecureTransport`). */
  secure: boolean;
  /** The client's address (`aws:SourceIp`). */
  sourceIp: string | undefined;
}

/** The answer to an {@link AccessRequest}. */
export interface AccessDecision {
  allowed: boolean;
  /** Refused by an explicit `Deny` (in any policy), not only for want of an `Allow`. */
  explicitDeny: boolean;
  /**
   * AWS's explanation after the resource in an access-denied message: "because no
   * identity-based policy allows the s3:GetObject action", "with an explicit deny in a
   * resource-based policy"...
   */
  reason: string;
}

/** The simulator refused the question itself (a mapping bug here, or a policy it cannot read). */
export class AccessEvaluationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AccessEvaluationError';
  }
}

/**
 * Decides requests of role sessions with AWS's policy evaluation logic, by running
 * `@cloud-copilot/iam-simulate` (identity policies + the resource policy; an explicit Deny
 * anywhere wins; same-account rules: either kind of policy may allow, except KMS key policies,
 * which must trust the account for identity policies to count). Fills in the global condition
 * keys AWS sets on every request.
 */
export class AccessEvaluator {
  constructor(
    private readonly accountId: string,
    private readonly region: string,
  ) {}

  /**
   * Evaluates one request now, with the principal's current policies.
   * @throws AccessEvaluationError when the simulator rejects the input.
   */
  async decide(
    principal: RoleSessionPrincipal,
    request: AccessRequest,
    transport: Transport,
  ): Promise<AccessDecision> {
    const now = new Date();
    const context: Record<string, string | string[]> = {
      'aws:PrincipalArn': principal.roleArn,
      'aws:PrincipalAccount': this.accountId,
      'aws:PrincipalType': 'AssumedRole',
      'aws:userid': principal.userId,
      'aws:PrincipalIsAWSService': 'false',
      'aws:RequestedRegion': this.region,
      'aws:CurrentTime': now.toISOString(),
      'aws:EpochTime': String(Math.floor(now.getTime() / 1000)),
      'aws:ViaAWSService': request.viaService === true ? 'true' : 'false',
      'aws:SecureTransport': request.viaService === true || transport.secure ? 'true' : 'false',
      ...request.context,
    };
    const sourceIp = transport.sourceIp?.replace(/^::ffff:/, '');
    if (request.viaService !== true && sourceIp !== undefined) context['aws:SourceIp'] = sourceIp;
    let result: RunSimulationResults;
    try {
      result = await runSimulation(
        {
          request: {
            principal: principal.assumedRoleArn,
            action: request.action,
            resource: { resource: request.resource, accountId: this.accountId },
            contextVariables: context,
          },
          identityPolicies: principal
            .policies()
            .map((policy, i) => ({ name: `policy-${i}`, policy })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: request.resourcePolicy,
        },
        {},
      );
    } catch (error) {
      throw new AccessEvaluationError(`cannot evaluate ${request.action} on ${request.resource}`, {
        cause: error,
      });
    }
    if (result.resultType === 'error') {
      throw new AccessEvaluationError(
        `cannot evaluate ${request.action} on ${request.resource}: ${result.errors.message} ${JSON.stringify(result.errors)}`,
      );
    }
    if (result.overallResult === 'Allowed')
      return { allowed: true, explicitDeny: false, reason: '' };
    const analysis =
      result.resultType === 'single' ? result.result.analysis : result.results[0]?.analysis;
    return denial(request.action, analysis);
  }
}

function denial(
  action: string,
  analysis: Parameters<typeof getDenialReasons>[0] | undefined,
): AccessDecision {
  const denials = analysis === undefined ? [] : getDenialReasons(analysis);
  const explicit = denials.find((d) => d.denialType === 'Explicit');
  const refused = (reason: string, explicitDeny = false): AccessDecision => ({
    allowed: false,
    explicitDeny,
    reason,
  });
  if (explicit !== undefined) {
    return refused(
      `with an explicit deny in ${explicit.policyType === 'resource' ? 'a resource-based' : 'an identity-based'} policy`,
      true,
    );
  }
  if (denials.some((d) => d.policyType === 'resource')) {
    return refused(`because no resource-based policy allows the ${action} action`);
  }
  return refused(`because no identity-based policy allows the ${action} action`);
}
