import { CreatePolicyCommand, CreateProvisioningTemplateCommand } from '@aws-sdk/client-iot';
import { fleetTemplateBody } from '@thingcert/contracts';
import { localClients, seedPolicy, type LocalCloudEndpoints } from './local-device';
import { provisionPointedDevice, type PointedDevice } from './pointed-device';

/** A fleet that provisions by claim in the local cloud, as the fleet construct would make it. */
export interface ClaimFleet {
  /** The enabled FLEET_PROVISIONING template. */
  readonly templateName: string;
  /** Thing names are this plus the device id. */
  readonly thingNamePrefix: string;
  /** The policy the template attaches to each device's certificate: the seed's (connect as the thing, `test/*`). */
  readonly devicePolicyName: string;
  /** The claim certificate, its objects and pointer in S3 (`claim.bucket`, `claim.pointerKey`). */
  readonly claim: PointedDevice;
  readonly iot: PointedDevice['iot'];
  readonly s3: PointedDevice['s3'];
}

/** Options of {@link provisionClaimFleet}. */
export interface ClaimFleetOptions {
  /**
   * A pre-provisioning hook (a Lambda ARN the local cloud's `LambdaInvoker` answers).
   * @default no hook
   */
  readonly hookArn?: string;
}

/** The role the template names; unknown to the local IAM, so it is not evaluated (the admin rule). */
const PROVISIONING_ROLE = 'arn:aws:iam::000000000000:role/thingcert-test-provisioning';

let counter = 0;

/**
 * AWS's claim policy (https://docs.aws.amazon.com/iot/latest/developerguide/provision-wo-cert.html):
 * connect with a client id of the fleet, and only the CSR and this template's provisioning topics.
 */
export function claimPolicy(
  cloud: LocalCloudEndpoints,
  templateName: string,
  thingNamePrefix: string,
): string {
  const arn = `arn:aws:iot:${cloud.region}:${cloud.accountId}`;
  const topics = [
    '$aws/certificates/create-from-csr/*',
    `$aws/provisioning-templates/${templateName}/provision/*`,
  ];
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}:client/${thingNamePrefix}*` },
      {
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: topics.map((topic) => `${arn}:topic/${topic}`),
      },
      {
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: topics.map((topic) => `${arn}:topicfilter/${topic}`),
      },
    ],
  });
}

/**
 * Makes, with the real SDK clients against the local cloud: the device policy, an enabled
 * provisioning template (thing named by the `ThingName` parameter, the CSR's certificate set
 * ACTIVE, the device policy attached), and a claim certificate allowed only the claim policy,
 * stored with a credential pointer the way the provisioner stores any certificate.
 */
export async function provisionClaimFleet(
  cloud: LocalCloudEndpoints,
  options: ClaimFleetOptions = {},
): Promise<ClaimFleet> {
  const id = `${process.pid}-c${++counter}`;
  const templateName = `fleet-${id}`;
  const thingNamePrefix = `fleet-${id}-`;
  const devicePolicyName = `fleet-device-${id}`;
  const { iot, s3 } = localClients(cloud);
  await iot.send(
    new CreatePolicyCommand({ policyName: devicePolicyName, policyDocument: seedPolicy(cloud) }),
  );
  await iot.send(
    new CreateProvisioningTemplateCommand({
      templateName,
      templateBody: JSON.stringify(fleetTemplateBody({ devicePolicyName })),
      provisioningRoleArn: PROVISIONING_ROLE,
      enabled: true,
      ...(options.hookArn === undefined
        ? {}
        : { preProvisioningHook: { targetArn: options.hookArn, payloadVersion: '2020-04-01' } }),
    }),
  );
  const claim = await provisionPointedDevice(cloud, {
    thing: `claim-${id}`,
    policy: claimPolicy(cloud, templateName, thingNamePrefix),
  });
  return { templateName, thingNamePrefix, devicePolicyName, claim, iot, s3 };
}
