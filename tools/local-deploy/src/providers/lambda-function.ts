import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkloadCredentials } from '../iam/workload-credentials';
import { retireFunctionEnvironments, type LocalFunction } from '../lambda-invoker';
import { regionalArn, templateOrGeneratedName } from '../physical-names';
import { runStep, type ResourceProvider, type StackEnvironment } from '../resource-provider';

/** Lambda function names are at most 64 characters. */
const MAX_FUNCTION_NAME = 64;

/** Directories of inline code not yet removed, in every stack of this process. */
const inlineDirectories = new Set<string>();
// A stack that is never deleted (a failed test) must not leave them in the temp directory.
process.once('exit', () => {
  for (const dir of inlineDirectories) rmSync(dir, { recursive: true, force: true });
});

function removeInlineCode(dir: string | undefined): void {
  if (dir === undefined) return;
  rmSync(dir, { recursive: true, force: true });
  inlineDirectories.delete(dir);
}

/** The functions provider, and the clean-up of the inline code it wrote. */
export interface LambdaFunctionProvider extends ResourceProvider {
  /**
   * Ends the functions' execution environments and removes the directories of
   * inline code still on disk (at the end of a stack's life).
   */
  dispose(): void;
}

/**
 * `AWS::Lambda::Function`: registered into `functions` (by ARN, what a custom
 * resource's `ServiceToken` names) from its asset directory in the cloud
 * assembly, or from its inline `Code.ZipFile`, written to `index.js` in a
 * temp directory as Lambda does; invocations later run it in execution
 * environments of their own (see `invokeFunction`). An in-place update (code, environment, timeout) registers
 * the new configuration under the same name. Each runs with a session of its
 * execution role (`Role`), taken when it is registered, as Lambda refuses a
 * role it may not assume when the function is created or updated.
 */
export function lambdaFunctionProvider(
  functions: Map<string, LocalFunction>,
  stack: StackEnvironment,
  credentials: WorkloadCredentials,
): LambdaFunctionProvider {
  /** Directories of inline code, by function ARN. */
  const inlineCode = new Map<string, string>();
  const register = async (
    logicalId: string,
    properties: Readonly<Record<string, unknown>>,
    functionName: string,
  ): Promise<LocalFunction> => {
    const roleEnv = await runStep(logicalId, 'AssumeRole', () =>
      credentials.forFunction(functionName, properties.Role),
    );
    const arn = regionalArn(stack, 'lambda', `function:${functionName}`);
    const code = (properties.Code ?? {}) as Record<string, unknown>;
    const previousInline = inlineCode.get(arn);
    let assetDir: string;
    if (typeof code.ZipFile === 'string') {
      assetDir = mkdtempSync(join(tmpdir(), 'thingcert-inline-function-'));
      inlineDirectories.add(assetDir);
      writeFileSync(join(assetDir, 'index.js'), code.ZipFile);
      inlineCode.set(arn, assetDir);
    } else {
      assetDir = stack.assetDir(logicalId, code.S3Key);
      inlineCode.delete(arn);
    }
    removeInlineCode(previousInline);
    // A new configuration starts in new execution environments, as on Lambda.
    retireFunctionEnvironments(arn);
    const fn = localFunction(functionName, arn, assetDir, properties, roleEnv);
    functions.set(arn, fn);
    return fn;
  };
  return {
    async create({ logicalId, properties }) {
      const name = templateOrGeneratedName(
        properties.FunctionName,
        stack.stackName,
        logicalId,
        MAX_FUNCTION_NAME,
      );
      const fn = await register(logicalId, properties, name);
      stack.log(
        `created ${logicalId} (function ${fn.functionName}, ${fn.timeoutSeconds} s timeout)`,
      );
      return { physicalId: fn.functionName, attributes: { Arn: fn.arn } };
    },
    async update({ logicalId, properties }, current) {
      await register(logicalId, properties, current.physicalId);
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete(resource) {
      const arn = String(resource.attributes.Arn);
      functions.delete(arn);
      retireFunctionEnvironments(arn);
      removeInlineCode(inlineCode.get(arn));
      inlineCode.delete(arn);
    },
    dispose() {
      for (const arn of functions.keys()) retireFunctionEnvironments(arn);
      for (const dir of inlineCode.values()) removeInlineCode(dir);
      inlineCode.clear();
    },
  };
}

function localFunction(
  functionName: string,
  arn: string,
  assetDir: string,
  properties: Readonly<Record<string, unknown>>,
  credentials: Readonly<Record<string, string>>,
): LocalFunction {
  return {
    credentials,
    functionName,
    arn,
    assetDir,
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
