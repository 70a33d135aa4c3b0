import type { LocalCloud, LocalIam } from '@thingcert/local-cloud';
import { StackIamError, type StackIam } from './stack-iam';

/**
 * The credentials each process the stack runs gets, as AWS hands them out: a Lambda function a
 * session of its execution role in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 * `AWS_SESSION_TOKEN`; an instance's device a session of its instance profile's role, fetched by
 * the SDK's default credential chain from the container-credentials endpoint (what IMDS is on
 * EC2: no code change in the device).
 */
export interface WorkloadCredentials {
  /**
   * The environment a function runs with.
   * @param roleArn its `Role` property (resolved).
   * @throws StackIamError when Lambda could not assume the role (CreateFunction's
   *   `InvalidParameterValueException`).
   */
  forFunction(functionName: string, roleArn: unknown): Promise<Record<string, string>>;
  /**
   * The environment an instance's device runs with.
   * @param instanceProfile its `IamInstanceProfile` property (the profile's name), if any.
   */
  forInstance(instanceId: string, instanceProfile: unknown): Promise<Record<string, string>>;
  /** The role a function runs as (`roleArn` given) or an instance (`instanceProfile` given). */
  roleOf(resource: { roleArn?: unknown; instanceProfile?: unknown }): string | undefined;
}

/** IAM not enforced: every process uses the admin's keys, already in the cloud's environment. */
export const ADMIN_CREDENTIALS: WorkloadCredentials = {
  forFunction: () => Promise.resolve({}),
  forInstance: () => Promise.resolve({}),
  roleOf: () => undefined,
};

/** `arn:aws:iam::<account>:role/<path><name>` → `<name>`. */
function roleNameOf(roleArn: unknown): string | undefined {
  if (typeof roleArn !== 'string') return undefined;
  return /^arn:[\w-]+:iam::\d{12}:role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn)?.[1];
}

/** A role session name from a function or instance name (IAM: `[\w+=,.@-]{2,64}`). */
function sessionName(name: string): string {
  return name
    .replace(/[^\w+=,.@-]/g, '-')
    .padEnd(2, '-')
    .slice(0, 64);
}

/** Sessions of the stack's roles, from the local IAM (IAM enforced). */
export function roleSessionCredentials(
  iam: LocalIam,
  stackIam: StackIam,
  log: (line: string) => void,
): WorkloadCredentials {
  const roleOf: WorkloadCredentials['roleOf'] = ({ roleArn, instanceProfile }) =>
    roleArn !== undefined
      ? roleNameOf(roleArn)
      : typeof instanceProfile === 'string'
        ? stackIam.roleOfInstanceProfile(instanceProfile)
        : undefined;
  return {
    roleOf,
    async forFunction(functionName, roleArn) {
      const roleName = roleOf({ roleArn });
      // Lambda refuses a role it may not assume when the function is created.
      if (roleName === undefined || !stackIam.trusts(roleName, 'lambda.amazonaws.com')) {
        throw new StackIamError(
          `InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda. (${String(roleArn)})`,
        );
      }
      const session = await iam.assumeRole({ roleName, sessionName: sessionName(functionName) });
      return session.env;
    },
    async forInstance(instanceId, instanceProfile) {
      const roleName = roleOf({ instanceProfile });
      // EC2 launches the instance either way; IMDS then has no credentials to give.
      if (roleName === undefined || !stackIam.trusts(roleName, 'ec2.amazonaws.com')) {
        log(
          `${instanceId}: no instance profile role EC2 may assume: the device gets no credentials`,
        );
        return {};
      }
      // EC2 names the instance profile's session after the instance.
      const session = await iam.assumeRole({ roleName, sessionName: sessionName(instanceId) });
      return session.containerEnv;
    },
  };
}

/**
 * The environment every process the stack starts shares: the local cloud's endpoints and region.
 * With IAM enforced, the S3 and IoT endpoints are the HTTPS ones (the bucket policy refuses
 * plain HTTP) with the local CA trusted as the SDKs trust a private CA (`NODE_EXTRA_CA_CERTS`
 * for Node.js, `AWS_CA_BUNDLE` for the AWS CLI and other SDKs), no admin keys (each process has
 * its role's), and IMDS turned off so that no SDK ever reaches the host's own instance metadata.
 */
export function workloadEnvironment(cloud: LocalCloud, enforced: boolean): Record<string, string> {
  if (!enforced) return { ...cloud.env };
  const {
    AWS_ACCESS_KEY_ID: _adminKey,
    AWS_SECRET_ACCESS_KEY: _adminSecret,
    ...endpoints
  } = cloud.env;
  return {
    ...endpoints,
    AWS_ENDPOINT_URL_IOT: cloud.iotHttpsEndpoint,
    AWS_ENDPOINT_URL_S3: cloud.s3HttpsEndpoint,
    NODE_EXTRA_CA_CERTS: cloud.caPath,
    AWS_CA_BUNDLE: cloud.caPath,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
