import type { AccessEvaluator } from './access-evaluator';
import type { RoleSessionPrincipal } from './identity-registry';
import type { KmsKeyring } from './kms-keyring';
import type { SimulatePrincipalPolicyInput, SimulationResult } from './local-iam';

/**
 * IAM's `SimulatePrincipalPolicy` for one action of a role: the role's identity policies as they
 * are now and the resource's policy, through the same evaluation every request of its sessions
 * goes through. For a KMS key ARN the key's policy is used unless the input names one: the local
 * cloud has no KMS API, so a call to KMS itself (a `kms:Decrypt` outside S3) can only be asked
 * here. No global condition key is set but `aws:SecureTransport` (true) and the principal's own;
 * the input's `context` adds or overrides them.
 */
export async function simulatePrincipalPolicy(
  evaluator: AccessEvaluator,
  kms: KmsKeyring,
  role: RoleSessionPrincipal,
  input: SimulatePrincipalPolicyInput,
): Promise<SimulationResult> {
  const resourcePolicy =
    input.resourcePolicy ??
    (input.resource.startsWith('arn:aws:kms:')
      ? kms.resolve(input.resource)?.keyPolicy
      : undefined);
  const decision = await evaluator.decide(
    role,
    {
      action: input.action,
      resource: input.resource,
      context: input.context,
      resourcePolicy,
    },
    { secure: true, sourceIp: undefined },
  );
  return {
    decision: decision.allowed
      ? 'allowed'
      : decision.explicitDeny
        ? 'explicitDeny'
        : 'implicitDeny',
    reason: decision.reason,
  };
}
