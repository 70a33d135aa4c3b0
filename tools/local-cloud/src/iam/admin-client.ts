import { LocalIamError } from '../errors';
import type { AdminEndpoint } from './admin-server';
import type {
  LocalIam,
  RoleDescription,
  RoleSessionCredentials,
  SimulationResult,
} from './local-iam';

/**
 * The local IAM of a cloud running in another process, over its admin endpoint (what the CLI
 * prints as `THINGCERT_LOCAL_CLOUD_ADMIN_ENDPOINT` / `THINGCERT_LOCAL_CLOUD_ADMIN_TOKEN`).
 * Same interface and errors ({@link LocalIamError}) as `cloud.iam` in process.
 *
 * @example
 * ```ts
 * const iam = connectLocalIam({
 *   endpoint: process.env.THINGCERT_LOCAL_CLOUD_ADMIN_ENDPOINT!,
 *   token: process.env.THINGCERT_LOCAL_CLOUD_ADMIN_TOKEN!,
 * });
 * await iam.putRole({ roleName: 'provisioner', policies: { Inline: document } });
 * ```
 */
export function connectLocalIam(admin: AdminEndpoint): LocalIam {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${admin.endpoint}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new LocalIamError(
        'ValidationError',
        `local IAM admin endpoint unreachable: ${admin.endpoint}`,
        {
          cause: error,
        },
      );
    }
    const text = await response.text();
    const parsed: unknown = text.length === 0 ? undefined : JSON.parse(text);
    if (response.ok) return parsed;
    const { code, message } = (parsed ?? {}) as { code?: string; message?: string };
    throw new LocalIamError(
      code === 'NoSuchEntity' || code === 'MalformedPolicyDocument' || code === 'AccessDenied'
        ? code
        : 'ValidationError',
      message ?? `local IAM admin endpoint answered ${response.status}`,
    );
  };
  const role = (name: string) => `/roles/${encodeURIComponent(name)}`;
  return {
    putRole: async (input) =>
      (await call('PUT', role(input.roleName), {
        path: input.path,
        policies: input.policies,
      })) as RoleDescription,
    getRole: async (roleName) => {
      try {
        return (await call('GET', role(roleName))) as RoleDescription;
      } catch (error) {
        if (error instanceof LocalIamError && error.code === 'NoSuchEntity') return undefined;
        throw error;
      }
    },
    deleteRole: async (roleName) => {
      await call('DELETE', role(roleName));
    },
    putRolePolicy: async (roleName, policyName, document) => {
      const parsed: unknown = typeof document === 'string' ? parseDocument(document) : document;
      await call('PUT', `${role(roleName)}/policies/${encodeURIComponent(policyName)}`, parsed);
    },
    deleteRolePolicy: async (roleName, policyName) => {
      await call('DELETE', `${role(roleName)}/policies/${encodeURIComponent(policyName)}`);
    },
    assumeRole: async (input) => {
      const session = (await call('POST', `${role(input.roleName)}/sessions`, {
        sessionName: input.sessionName,
        durationSeconds: input.durationSeconds,
      })) as Omit<RoleSessionCredentials, 'expiration'> & { expiration?: string };
      // JSON carries the expiry as ISO 8601; the interface (and the SDK) want a Date.
      return {
        ...session,
        expiration: session.expiration === undefined ? undefined : new Date(session.expiration),
      };
    },
    putKmsKey: async (input) =>
      (await call('PUT', `/kms-keys/${encodeURIComponent(input.keyId)}`, {
        aliases: input.aliases,
        keyPolicy: input.keyPolicy,
      })) as { keyArn: string },
    simulatePrincipalPolicy: async ({ roleName, ...question }) =>
      (await call('POST', `${role(roleName)}/simulations`, question)) as SimulationResult,
  };
}

function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LocalIamError('MalformedPolicyDocument', 'The policy document is not valid JSON', {
      cause: error,
    });
  }
}
