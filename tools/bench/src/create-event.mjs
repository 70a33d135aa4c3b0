// The CloudFormation Create event the provisioner's handler answers, as the
// provisioning benchmarks send it (one thing, one bucket, default KeyMode).
import { randomUUID } from 'node:crypto';
import {
  DEVICE_CERTIFICATE_PROPERTY as PROPERTY,
  DEVICE_CERTIFICATE_RESOURCE_TYPE,
} from '@thingcert/contracts';

/**
 * A Create of a device certificate for `thingName`, its credentials into `bucket`,
 * answered at `responseUrl` (the harness's response recorder).
 */
export function createEvent(responseUrl, thingName, bucket) {
  return {
    RequestType: 'Create',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/bench/1',
    RequestId: randomUUID(),
    ResourceType: DEVICE_CERTIFICATE_RESOURCE_TYPE,
    LogicalResourceId: `Cert${thingName.replace(/[^A-Za-z0-9]/g, '')}`,
    ResourceProperties: {
      ServiceToken: 'x',
      [PROPERTY.thingName]: thingName,
      [PROPERTY.bucketName]: bucket,
    },
  };
}
