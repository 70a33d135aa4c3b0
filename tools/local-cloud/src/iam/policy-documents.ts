import { validateIdentityPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy';
import { MalformedPolicyDocumentError } from '../errors';

/** An IAM policy document, parsed (`{ Version, Statement }`). */
export type PolicyDocument = Record<string, unknown>;

/** Largest identity policy document IAM accepts for a role's inline policies (10,240 characters). */
const MAX_IDENTITY_POLICY_CHARS = 10_240;
/** Largest bucket policy S3 accepts (20 KB). */
const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

/**
 * Parses and validates an identity policy (what a role's inline and managed
 * policies hold): JSON object, IAM grammar, no `Principal`.
 * @throws MalformedPolicyDocumentError naming the first problem.
 */
export function parseIdentityPolicy(document: PolicyDocument | string): PolicyDocument {
  const text = typeof document === 'string' ? document : JSON.stringify(document);
  if (text.length > MAX_IDENTITY_POLICY_CHARS) {
    throw new MalformedPolicyDocumentError(
      `Maximum policy size of ${MAX_IDENTITY_POLICY_CHARS} bytes exceeded`,
    );
  }
  const parsed = parseJsonObject(text);
  const errors = validateIdentityPolicy(parsed);
  if (errors.length > 0) {
    throw new MalformedPolicyDocumentError(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
  return parsed;
}

/**
 * Parses and validates a bucket policy as S3's PutBucketPolicy does: JSON,
 * IAM grammar, a `Principal` in every statement, only `s3:` actions, and only
 * resources of this bucket.
 * @throws MalformedPolicyDocumentError with S3's wording where it is known.
 */
export function parseBucketPolicy(text: string, bucketName: string): PolicyDocument {
  if (Buffer.byteLength(text) > MAX_BUCKET_POLICY_BYTES) {
    throw new MalformedPolicyDocumentError('Policies must be smaller than 20 KB');
  }
  const parsed = parseJsonObject(text);
  const errors = validateResourcePolicy(parsed);
  if (errors.length > 0) {
    throw new MalformedPolicyDocumentError(errors.map((e) => `${e.path}: ${e.message}`).join('; '));
  }
  const statements = ([] as unknown[]).concat(parsed.Statement ?? []) as Record<string, unknown>[];
  const bucketArn = `arn:aws:s3:::${bucketName}`;
  for (const statement of statements) {
    if (statement.Principal === undefined && statement.NotPrincipal === undefined) {
      throw new MalformedPolicyDocumentError('Missing required field Principal');
    }
    const actions = ([] as unknown[]).concat(statement.Action ?? statement.NotAction ?? []);
    if (actions.some((a) => typeof a !== 'string' || !(a === '*' || /^s3:/i.test(a)))) {
      throw new MalformedPolicyDocumentError('Policy has invalid action');
    }
    const resources = ([] as unknown[]).concat(statement.Resource ?? statement.NotResource ?? []);
    const ours = (r: unknown) =>
      typeof r === 'string' && (r === bucketArn || r.startsWith(`${bucketArn}/`));
    if (!resources.every(ours)) {
      throw new MalformedPolicyDocumentError('Policy has invalid resource');
    }
  }
  return parsed;
}

function parseJsonObject(text: string): PolicyDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedPolicyDocumentError(
      "Policies must be valid JSON and the first byte must be '{'",
      { cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MalformedPolicyDocumentError(
      "Policies must be valid JSON and the first byte must be '{'",
    );
  }
  return parsed as PolicyDocument;
}
