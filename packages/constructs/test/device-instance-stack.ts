import { type App, type Environment, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { CertificateBucket } from '../src/certificate-bucket';
import { CertificateProvisioner } from '../src/certificate-provisioner';
import { DeviceInstance } from '../src/device-instance';
import { IotDevice } from '../src/iot-device';
import { fakeBundles, publicVpc } from './stack-fixture';

/**
 * A stack `Devices` in `app` with one device instance (thing `dev-1`, topic
 * `test/topic`) built from the bundle stand-ins, for tests of what the
 * instance gets from its app and stack (image, feature flags).
 */
export function deviceInstanceStack(
  app: App,
  options: { env?: Environment; instanceType?: ec2.InstanceType } = {},
): Stack {
  const stack = new Stack(app, 'Devices', { env: options.env });
  const bundles = fakeBundles();
  const bucket = new CertificateBucket(stack, 'Credentials');
  const provisioner = CertificateProvisioner.forBucket(bucket, { code: bundles.provisionerCode });
  const device = new IotDevice(stack, 'Device', {
    thingName: 'dev-1',
    topics: ['test/topic'],
    provisioner,
  });
  new DeviceInstance(stack, 'Runner', {
    device,
    vpc: publicVpc(stack),
    runnerBundleDirectory: bundles.runnerBundleDirectory,
    instanceType: options.instanceType,
  });
  return stack;
}
