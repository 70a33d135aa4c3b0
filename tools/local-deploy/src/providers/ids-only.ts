import type { ResourceProvider, StackEnvironment } from '../resource-provider';
import { regionalArn, shortId } from '../physical-names';

/**
 * Every type the local cloud does not emulate (VPC, IAM, KMS, logs…): a
 * physical id and AWS-shaped attributes so that dependents resolve, and
 * nothing to create or delete. The engine lists these as "not emulated".
 */
export function idsOnlyProvider(stack: StackEnvironment): ResourceProvider {
  return {
    async create({ logicalId, type }) {
      const physicalId = `${stack.stackName}-${logicalId}-${shortId()}`;
      const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
      const kind = type.split('::')[2]?.toLowerCase() ?? 'resource';
      const attributes = new Proxy<Record<string, unknown>>(
        {},
        {
          // Any attribute a dependent asks for: an ARN for `Arn`/`…Arn`, a derived id otherwise.
          get: (_target, key) =>
            typeof key === 'string'
              ? key.endsWith('Arn') || key === 'Arn'
                ? service === 'iam'
                  ? // IAM is global: its ARNs name no region.
                    `arn:aws:iam::${stack.accountId}:${kind}/${physicalId}`
                  : regionalArn(stack, service, `${kind}/${physicalId}`)
                : `${physicalId}-${key}`
              : undefined,
        },
      );
      return { physicalId, attributes, skipped: true };
    },
    async delete() {
      // Nothing was created.
    },
  };
}
