import {
  type IoTClient,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';

/**
 * Lists what a deleted stack left in the local IoT registry: every
 * certificate (the provisioner must have revoked and deleted it) and every
 * thing with its principal count. Empty when the teardown was clean.
 */
export async function auditLeftovers(iot: IoTClient): Promise<string[]> {
  const found: string[] = [];
  const certificates = await iot.send(new ListCertificatesCommand({}));
  for (const certificate of certificates.certificates ?? []) {
    found.push(`certificate ${certificate.certificateId} (${certificate.status})`);
  }
  const things = await iot.send(new ListThingsCommand({}));
  for (const thing of things.things ?? []) {
    const principals = await iot.send(
      new ListThingPrincipalsCommand({ thingName: thing.thingName }),
    );
    found.push(`thing ${thing.thingName} with ${principals.principals?.length ?? 0} principal(s)`);
  }
  return found;
}
