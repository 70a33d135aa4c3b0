import { assetDirectory, type StackArtifact } from '../src/cloud-assembly';
import { callCustomResource } from '../src/custom-resource-call';
import { workloadEnvironment } from '../src/iam/workload-credentials';
import type { LocalFunction } from '../src/lambda-invoker';
import type { DeployedResource } from '../src/resource-provider';
import { ResponseEndpoint } from '../src/response-endpoint';
import type { LifecycleRun } from './lifecycle-harness';

/**
 * Sends the stack's provisioner Lambda a CloudFormation Delete for
 * `certificate`'s logical id and properties, but naming `physicalId`: a
 * request the stack never made, through the engine's own custom-resource call
 * (real event, real `ResponseURL`, Lambda's retries). With IAM enforced the
 * function runs as Lambda would run it: with a session of its execution role,
 * over HTTPS.
 *
 * @returns the function's answer: `SUCCESS`, or the `FAILED` reason.
 */
export async function sendCraftedDelete(
  run: LifecycleRun,
  artifact: StackArtifact,
  certificate: DeployedResource,
  physicalId: string,
): Promise<string> {
  const serviceToken = String(certificate.properties.ServiceToken);
  const functionResource = [...run.stack.resources.values()].find(
    (resource) => resource.attributes.Arn === serviceToken,
  );
  if (!functionResource) throw new Error(`no function ${serviceToken} in the stack`);
  const { properties } = functionResource;
  const variables = (properties.Environment as { Variables?: Record<string, unknown> } | undefined)
    ?.Variables;
  const roleName = run.stack.roleOf(functionResource.logicalId);
  const session =
    roleName === undefined
      ? undefined
      : await run.cloud.iam.assumeRole({ roleName, sessionName: 'crafted-delete' });
  const fn: LocalFunction = {
    functionName: functionResource.physicalId,
    credentials: session?.env ?? {},
    arn: serviceToken,
    assetDir: assetDirectory(
      artifact.assetsByObjectKey,
      functionResource.logicalId,
      (properties.Code as { S3Key?: unknown } | undefined)?.S3Key,
    ),
    handler: String(properties.Handler),
    timeoutSeconds: Number(properties.Timeout),
    environment: Object.fromEntries(
      Object.entries(variables ?? {}).map(([key, value]) => [key, String(value)]),
    ),
  };
  const endpoint = new ResponseEndpoint();
  await endpoint.start();
  const background = new Set<Promise<unknown>>();
  const log = (line: string) => run.lines.push(`[crafted] ${line}`);
  try {
    await callCustomResource(
      {
        requestType: 'Delete',
        logicalId: certificate.logicalId,
        resourceType: certificate.type,
        properties: certificate.properties,
        previous: { ...certificate, physicalId },
      },
      {
        stack: {
          stackName: run.stack.stackName,
          stackId: run.stack.stackId,
          region: run.cloud.region,
          accountId: run.cloud.accountId,
          cloudEnv: workloadEnvironment(run.cloud, roleName !== undefined),
          log,
          relay: (source, line) => log(`[${source}] ${line}`),
          assetDir: (logicalId, s3Key) =>
            assetDirectory(artifact.assetsByObjectKey, logicalId, s3Key),
          metadataOf: () => ({}),
        },
        functions: new Map([[serviceToken, fn]]),
        endpoint,
        background,
      },
    );
    return 'SUCCESS';
  } catch (error) {
    return `FAILED: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    await Promise.all(background);
    await endpoint.stop();
  }
}
