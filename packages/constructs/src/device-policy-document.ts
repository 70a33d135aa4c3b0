import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { assertValidTopics } from './iot-names';

/** An AWS IoT policy document, as CloudFormation's `PolicyDocument` takes it. */
export interface IotPolicyDocument {
  /** Policy language version. */
  readonly Version: '2012-10-17';
  /** Allow statements; nothing else is allowed. */
  readonly Statement: readonly IotPolicyStatement[];
}

/** One statement of an {@link IotPolicyDocument}. */
export interface IotPolicyStatement {
  /** Statement id. */
  readonly Sid: string;
  /** Always `Allow`: everything not allowed is denied by default. */
  readonly Effect: 'Allow';
  /** IoT data-plane actions. */
  readonly Action: readonly string[];
  /** Resource ARNs (may contain tokens for partition, region and account). */
  readonly Resource: readonly string[];
  /** Conditions, if any. */
  readonly Condition?: Record<string, Record<string, string>>;
}

/**
 * Least-privilege policy for one device:
 * - `iot:Connect` only as the client id equal to the thing name
 *   (`${iot:Connection.Thing.ThingName}`), only with a certificate attached to
 *   that thing (`iot:Connection.Thing.IsAttached`);
 * - `iot:Publish` and `iot:Receive` on `topic/<t>` and `iot:Subscribe` on
 *   `topicfilter/<t>`, for exactly the given topics.
 *
 * The thing variable appears verbatim in the ARN (built with `Fn::Join`, which
 * leaves `${...}` alone) for AWS IoT to substitute at connect time.
 */
export function devicePolicyDocument(
  scope: Construct,
  topics: readonly string[],
): IotPolicyDocument {
  const validTopics = assertValidTopics(topics);
  const stack = Stack.of(scope);
  const iotArn = (resource: string, resourceName: string): string =>
    stack.formatArn({ service: 'iot', resource, resourceName });
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectAsOwnThing',
        Effect: 'Allow',
        Action: ['iot:Connect'],
        Resource: [iotArn('client', '${iot:Connection.Thing.ThingName}')],
        Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
      },
      {
        Sid: 'PublishAndReceiveOwnTopics',
        Effect: 'Allow',
        Action: ['iot:Publish', 'iot:Receive'],
        Resource: validTopics.map((topic) => iotArn('topic', topic)),
      },
      {
        Sid: 'SubscribeOwnTopics',
        Effect: 'Allow',
        Action: ['iot:Subscribe'],
        Resource: validTopics.map((topic) => iotArn('topicfilter', topic)),
      },
    ],
  };
}
