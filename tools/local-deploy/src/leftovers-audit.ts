import {
  DescribeThingGroupCommand,
  GetPolicyCommand,
  type IoTClient,
  ListCertificatesCommand,
  ListProvisioningTemplatesCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { DeployedResource } from './resource-provider';

/** Whether an IoT call failed because the resource does not exist. */
function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/**
 * Lists what a deleted stack left in the local cloud: every certificate (the
 * provisioner, or a fleet's deregistration, must have revoked and deleted
 * it, and with it its policy attachments), every thing with its principal
 * count (but a thing the stack retained), every provisioning template, each
 * thing group and policy the stack had that still exists (but those it
 * retained), and every object in a bucket the stack retained
 * (`DeletionPolicy: Retain` keeps the bucket, not the credentials the
 * stack's resources put there). Empty when the teardown was clean.
 *
 * @param held - what the stack held when its delete began.
 */
export async function auditLeftovers(
  iot: IoTClient,
  s3: S3Client,
  retained: readonly DeployedResource[],
  held: readonly DeployedResource[] = [],
): Promise<string[]> {
  const kept = (type: string) =>
    new Set(retained.filter((resource) => resource.type === type).map((r) => r.physicalId));
  const deleted = (type: string) =>
    held.filter((r) => r.type === type && !kept(type).has(r.physicalId)).map((r) => r.physicalId);
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
  const templates = await iot.send(new ListProvisioningTemplatesCommand({}));
  const keptTemplates = kept('AWS::IoT::ProvisioningTemplate');
  for (const template of templates.templates ?? []) {
    if (!keptTemplates.has(template.templateName!))
      found.push(`provisioning template ${template.templateName}`);
  }
  for (const name of deleted('AWS::IoT::ThingGroup')) {
    if (await exists(() => iot.send(new DescribeThingGroupCommand({ thingGroupName: name }))))
      found.push(`thing group ${name}`);
  }
  for (const name of deleted('AWS::IoT::Policy')) {
    if (await exists(() => iot.send(new GetPolicyCommand({ policyName: name }))))
      found.push(`policy ${name}`);
  }
  for (const bucket of kept('AWS::S3::Bucket')) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const object of listed.Contents ?? []) found.push(`object s3://${bucket}/${object.Key}`);
  }
  return found;
}

async function exists(describe: () => Promise<unknown>): Promise<boolean> {
  try {
    await describe();
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
