import { PreProvisioningHookError } from '../errors';

/**
 * Invokes a Lambda function by ARN and resolves with what its handler returned (the parsed
 * JSON result), or rejects when the function fails. The local cloud has no Lambda of its own:
 * whoever runs the functions (the local deployer and its Lambda runtime, or a test) provides
 * this. `signal` aborts when the caller stops waiting (the hook's 5 s are over): stop the
 * function then.
 * @example
 * ```ts
 * const invoker: LambdaInvoker = async (functionArn, payload) => {
 *   if (functionArn.endsWith(':function:fleet-hook')) return { allowProvisioning: true };
 *   throw new Error(`no function ${functionArn}`);
 * };
 * ```
 */
export type LambdaInvoker = (
  functionArn: string,
  payload: unknown,
  options: { signal: AbortSignal },
) => Promise<unknown>;

/** "The Lambda function must finish running and return within 5 seconds." */
export const PRE_PROVISIONING_HOOK_TIMEOUT_MS = 5000;

/** What AWS IoT sends a pre-provisioning hook (payload version 2020-04-01). */
export interface PreProvisioningHookInput {
  claimCertificateId: string;
  certificateId: string;
  certificatePem: string;
  templateArn: string;
  clientId: string;
  parameters: Record<string, string>;
}

/** The hook's answer, read as AWS reads it. */
export interface PreProvisioningHookDecision {
  allowProvisioning: boolean;
  /** Added to (and replacing) the device's parameters. */
  parameterOverrides: Record<string, string>;
}

/**
 * Asks the template's pre-provisioning hook
 * (https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html) whether
 * the device may be provisioned: allowed only when it answers `allowProvisioning` true (the
 * guide shows both `true` and `"true"`); `parameterOverrides` must be a map of strings.
 * @throws PreProvisioningHookError when there is no invoker, the function fails, answers
 *   something else than an object, or takes longer than `timeoutMs`.
 */
export async function askPreProvisioningHook(
  invoker: LambdaInvoker | undefined,
  functionArn: string,
  input: PreProvisioningHookInput,
  timeoutMs = PRE_PROVISIONING_HOOK_TIMEOUT_MS,
): Promise<PreProvisioningHookDecision> {
  if (invoker === undefined) {
    throw new PreProvisioningHookError(
      `cannot invoke ${functionArn}: no Lambda invoker was given to the local cloud (startLocalCloud({ lambdaInvoker }) or cloud.fleetProvisioning.setLambdaInvoker)`,
    );
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new PreProvisioningHookError(`${functionArn} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  let answer: unknown;
  try {
    answer = await Promise.race([
      invoker(functionArn, input, { signal: controller.signal }).catch((error: unknown) => {
        throw new PreProvisioningHookError(
          `${functionArn} failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return decisionOf(functionArn, answer);
}

function decisionOf(functionArn: string, answer: unknown): PreProvisioningHookDecision {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new PreProvisioningHookError(
      `${functionArn} answered ${JSON.stringify(answer)}, not an object`,
    );
  }
  const { allowProvisioning, parameterOverrides } = answer as Record<string, unknown>;
  const overrides: Record<string, string> = {};
  if (parameterOverrides !== undefined && parameterOverrides !== null) {
    if (typeof parameterOverrides !== 'object' || Array.isArray(parameterOverrides)) {
      throw new PreProvisioningHookError(`${functionArn}: parameterOverrides must be a map`);
    }
    for (const [key, value] of Object.entries(parameterOverrides)) {
      if (typeof value !== 'string') {
        throw new PreProvisioningHookError(
          `${functionArn}: parameterOverrides.${key} must be a string`,
        );
      }
      overrides[key] = value;
    }
  }
  return {
    allowProvisioning:
      allowProvisioning === true ||
      (typeof allowProvisioning === 'string' && allowProvisioning.toLowerCase() === 'true'),
    parameterOverrides: overrides,
  };
}
