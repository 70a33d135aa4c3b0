import type {
  AssumeRoleInput,
  LocalIam,
  PolicyDocument,
  PutKmsKeyInput,
  RoleDescription,
  RoleSessionCredentials,
} from '@thingcert/local-cloud';

/**
 * A {@link LocalIam} in memory for tests with no network: it keeps what it is
 * told (roles with their policies, KMS keys) and mints sessions whose
 * environments name the role, so a test can read what the deployer put there.
 */
export class RecordingIam implements LocalIam {
  readonly roles = new Map<string, RoleDescription>();
  readonly kmsKeys = new Map<string, PutKmsKeyInput>();
  readonly sessions: AssumeRoleInput[] = [];

  putRole(input: {
    roleName: string;
    path?: string;
    policies?: Record<string, PolicyDocument | string>;
  }): Promise<RoleDescription> {
    const role: RoleDescription = {
      roleName: input.roleName,
      roleArn: `arn:aws:iam::000000000000:role${input.path ?? '/'}${input.roleName}`,
      roleId: this.roles.get(input.roleName)?.roleId ?? `AROA${input.roleName.toUpperCase()}`,
      policies: Object.fromEntries(
        Object.entries(input.policies ?? {}).map(([name, document]) => [
          name,
          typeof document === 'string' ? (JSON.parse(document) as PolicyDocument) : document,
        ]),
      ),
    };
    this.roles.set(role.roleName, role);
    return Promise.resolve(role);
  }

  getRole(roleName: string): Promise<RoleDescription | undefined> {
    return Promise.resolve(this.roles.get(roleName));
  }

  deleteRole(roleName: string): Promise<void> {
    this.roles.delete(roleName);
    return Promise.resolve();
  }

  async putRolePolicy(roleName: string, policyName: string, document: PolicyDocument | string) {
    const role = this.roles.get(roleName)!;
    await this.putRole({ ...role, policies: { ...role.policies, [policyName]: document } });
  }

  async deleteRolePolicy(roleName: string, policyName: string) {
    const role = this.roles.get(roleName)!;
    const { [policyName]: _removed, ...rest } = role.policies;
    await this.putRole({ ...role, policies: rest });
  }

  assumeRole(input: AssumeRoleInput): Promise<RoleSessionCredentials> {
    this.sessions.push(input);
    const key = `ASIA-${input.roleName}-${input.sessionName}`;
    return Promise.resolve({
      accessKeyId: key,
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: undefined,
      assumedRoleArn: `arn:aws:sts::000000000000:assumed-role/${input.roleName}/${input.sessionName}`,
      roleArn: `arn:aws:iam::000000000000:role/${input.roleName}`,
      env: { AWS_ACCESS_KEY_ID: key },
      containerEnv: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:1/${key}` },
    });
  }

  putKmsKey(input: PutKmsKeyInput): Promise<{ keyArn: string }> {
    this.kmsKeys.set(input.keyId, input);
    return Promise.resolve({ keyArn: `arn:aws:kms:eu-west-1:000000000000:key/${input.keyId}` });
  }

  simulatePrincipalPolicy(): never {
    throw new Error('not recorded: simulations need the local cloud');
  }
}
