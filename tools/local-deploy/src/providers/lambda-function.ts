import { ResourceStepError } from '../errors';
import type { LocalFunction } from '../lambda-invoker';
import { regionalArn, templateOrGeneratedName } from '../physical-names';
import type { ResourceProvider, StackEnvironment } from '../resource-provider';

/** Lambda function names are at most 64 characters. */
const MAX_FUNCTION_NAME = 64;

/**
 * `AWS::Lambda::Function`: registered from its asset directory in the cloud
 * assembly into `functions` (by ARN, what a custom resource's `ServiceToken`
 * names); each invocation later runs it in a fresh Node.js process.
 */
export function lambdaFunctionProvider(
  functions: Map<string, LocalFunction>,
  stack: StackEnvironment,
): ResourceProvider {
  return {
    async create({ logicalId, properties }) {
      const fn = localFunction(logicalId, properties, stack);
      functions.set(fn.arn, fn);
      stack.log(
        `created ${logicalId} (function ${fn.functionName}, ${fn.timeoutSeconds} s timeout)`,
      );
      return { physicalId: fn.functionName, attributes: { Arn: fn.arn } };
    },
    async delete(resource) {
      functions.delete(String(resource.attributes.Arn));
    },
  };
}

function localFunction(
  logicalId: string,
  properties: Readonly<Record<string, unknown>>,
  stack: StackEnvironment,
): LocalFunction {
  const code = (properties.Code ?? {}) as Record<string, unknown>;
  if (typeof code.ZipFile === 'string') {
    throw new ResourceStepError(
      logicalId,
      'create function',
      'inline ZipFile code is not emulated',
    );
  }
  const functionName = templateOrGeneratedName(
    properties.FunctionName,
    stack.stackName,
    logicalId,
    MAX_FUNCTION_NAME,
  );
  return {
    functionName,
    arn: regionalArn(stack, 'lambda', `function:${functionName}`),
    assetDir: stack.assetDir(logicalId, code.S3Key),
    handler: typeof properties.Handler === 'string' ? properties.Handler : 'index.handler',
    timeoutSeconds: Number(properties.Timeout ?? 3),
    environment: stringMap(
      (properties.Environment as { Variables?: unknown } | undefined)?.Variables,
    ),
  };
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}
