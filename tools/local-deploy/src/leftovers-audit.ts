import {
  type IoTClient,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DeployedResource } from './resource-provider';

/**
 * Lists what a deleted stack left in the local cloud: every certificate (the
 * provisioner must have revoked and deleted it), every thing with its
 * principal count (but a thing the stack retained), and every object in a
 * bucket the stack retained (`DeletionPolicy: Retain` keeps the bucket, not
 * the credentials the stack's resources put there). Empty when the teardown
 * was clean.
 */
export async function auditLeftovers(
  iot: IoTClient,
  s3: S3Client,
  retained: readonly DeployedResource[],
): Promise<string[]> {
  const kept = (type: string) =>
    new Set(retained.filter((resource) => resource.type === type).map((r) => r.physicalId));
  const found: string[] = [];
  const certificates = await iot.send(new ListCertificatesCommand({}));
  for (const certificate of certificates.certificates ?? []) {
    found.push(`certificate ${certificate.certificateId} (${certificate.status})`);
  }
  const things = await iot.send(new ListThingsCommand({}));
  const keptThings = kept('AWS::IoT::Thing');
  for (const thing of things.things ?? []) {
    if (keptThings.has(thing.thingName!)) continue;
    const principals = await iot.send(
      new ListThingPrincipalsCommand({ thingName: thing.thingName }),
    );
    found.push(`thing ${thing.thingName} with ${principals.principals?.length ?? 0} principal(s)`);
  }
  for (const bucket of kept('AWS::S3::Bucket')) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of listed.Contents ?? []) found.push(`object s3://${bucket}/${object.Key}`);
  }
  return found;
}
