import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { IotPolicyDocument } from './device-policy-document';

/** The MQTT API topics of fleet provisioning by CSR through one template. */
function provisioningTopics(templateName: string): { requests: string[]; replies: string[] } {
  const requests = [
    '$aws/certificates/create-from-csr/json',
    `$aws/provisioning-templates/${templateName}/provision/json`,
  ];
  return {
    requests,
    replies: requests.flatMap((topic) => [`${topic}/accepted`, `${topic}/rejected`]),
  };
}

/**
 * The claim certificate's policy, and nothing else: connect with a client id
 * starting with the fleet's prefix; publish the two requests of
 * provisioning by CSR (CreateCertificateFromCsr, RegisterThing through this
 * template); subscribe to and receive their accepted / rejected replies.
 */
export function claimPolicyDocument(
  scope: Construct,
  thingNamePrefix: string,
  templateName: string,
): IotPolicyDocument {
  const stack = Stack.of(scope);
  const iotArn = (resource: string, resourceName: string): string =>
    stack.formatArn({ service: 'iot', resource, resourceName });
  const { requests, replies } = provisioningTopics(templateName);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectAsFleetDevice',
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [iotArn('client', `${thingNamePrefix}*`)],
      },
      {
        Sid: 'PublishProvisioningRequests',
        Effect: 'Allow',
        Action: ['iot:Publish'],
        Resource: requests.map((topic) => iotArn('topic', topic)),
      },
      {
        Sid: 'ReceiveProvisioningReplies',
        Effect: 'Allow',
        Action: ['iot:Receive'],
        Resource: replies.map((topic) => iotArn('topic', topic)),
      },
      {
        Sid: 'SubscribeProvisioningReplies',
        Effect: 'Allow',
        Action: ['iot:Subscribe'],
        Resource: replies.map((topic) => iotArn('topicfilter', topic)),
      },
    ],
  };
}

/**
 * What AWS IoT does with the provisioning role when a device registers
 * through the template: create (or look up and update) the thing, add it to
 * the group, attach the certificate to it, attach the device policy to the
 * certificate and set the certificate ACTIVE. Things are limited to the
 * fleet's prefix, the group to the fleet's; certificate ids are made by AWS
 * IoT at registration, so certificates are `cert/*`.
 */
export function provisioningRoleStatements(
  scope: Construct,
  thingNamePrefix: string,
  thingGroupArn: string,
): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const things = stack.formatArn({
    service: 'iot',
    resource: 'thing',
    resourceName: `${thingNamePrefix}*`,
  });
  const certificates = stack.formatArn({ service: 'iot', resource: 'cert', resourceName: '*' });
  return [
    new iam.PolicyStatement({
      sid: 'RegisterFleetThings',
      actions: ['iot:CreateThing', 'iot:DescribeThing', 'iot:UpdateThing'],
      resources: [things],
    }),
    new iam.PolicyStatement({
      sid: 'AddToFleetGroup',
      actions: ['iot:AddThingToThingGroup'],
      resources: [thingGroupArn, things],
    }),
    new iam.PolicyStatement({
      sid: 'AttachCertificateToThing',
      actions: ['iot:AttachThingPrincipal'],
      // Evaluated on the certificate (with `iot:thingArn`), as the local IoT
      // does; the thing is listed too, as AWS does not document which.
      resources: [things, certificates],
    }),
    new iam.PolicyStatement({
      sid: 'ActivateCertificateWithPolicy',
      actions: ['iot:AttachPolicy', 'iot:UpdateCertificate'],
      resources: [certificates],
    }),
  ];
}
