import { DEVICE_CERTIFICATE_RESOURCE_TYPE } from '@thingcert/contracts';
import type { StackArtifact } from '../src/cloud-assembly';

/** The provisioner's bucket-scoped object statement in the template as the constructs make it. */
const OBJECTS_SID = 'ManageCredentialObjects';

type Statement = Record<string, unknown>;

/**
 * The template with the provisioner's S3 object grants in the shape they had
 * before issue 13 defect 4 was fixed: one shared `AWS::IAM::Policy` holding,
 * for each thing of the stack, object access to that thing's folder only
 * (`<bucket>/<keyPrefix><thing>/*`) in place of the bucket-wide statement.
 * Removing or renaming a device then changes that policy, which
 * CloudFormation updates in the update phase, before the removed
 * certificate's Delete in cleanup.
 *
 * Only that is reproduced: the bucket-wide `s3:ListBucket` stays. Its old
 * `s3:prefix` condition turned every missing object into 403 for the
 * provisioner (S3's 404-vs-403 rule), which fails any create or rotation
 * before a removal could be tried.
 *
 * @throws {Error} when the template has no such statement (the constructs changed).
 */
export function withPerThingObjectGrants(artifact: StackArtifact): StackArtifact {
  const template = structuredClone(artifact.template);
  const folders = Object.values(template.Resources)
    .filter((resource) => resource.Type === DEVICE_CERTIFICATE_RESOURCE_TYPE)
    .map((resource) => {
      const { KeyPrefix: keyPrefix, ThingName: thingName } = resource.Properties ?? {};
      return `${typeof keyPrefix === 'string' ? keyPrefix : ''}${String(thingName)}/`;
    });
  let rewritten = 0;
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const document = resource.Properties?.PolicyDocument as { Statement: Statement[] };
    document.Statement = document.Statement.flatMap((statement): Statement[] => {
      if (statement.Sid !== OBJECTS_SID) return [statement];
      rewritten += 1;
      // `Fn::Join ['', [<bucket ARN>, '/*']]`: the same ARN, one folder each.
      const [bucketArn] = (statement.Resource as { 'Fn::Join': [string, unknown[]] })[
        'Fn::Join'
      ][1];
      const { Sid: _sid, ...rest } = statement;
      return folders.map((folder) => ({
        ...rest,
        Resource: { 'Fn::Join': ['', [bucketArn, `/${folder}*`]] },
      }));
    });
  }
  if (rewritten !== 1) throw new Error(`expected one ${OBJECTS_SID} statement, found ${rewritten}`);
  return { ...artifact, template };
}
