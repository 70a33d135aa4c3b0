import { bootDevice } from '../device-boot';
import type { DeviceProcess } from '../device-process';
import { ADMIN_CREDENTIALS, type WorkloadCredentials } from '../iam/workload-credentials';
import { newInstanceId } from '../physical-names';
import type {
  DeployedResource,
  ProvisionedResource,
  ResourceProvider,
  ResourceRequest,
  StackEnvironment,
} from '../resource-provider';
import { updateBehaviour } from '../update-behaviour';

/** One launched instance: the metadata it first booted with, and its running device. */
interface Instance {
  readonly logicalId: string;
  /** What its user data wrote at first boot: the device's configuration for the instance's life. */
  readonly bootMetadata: Record<string, unknown>;
  /** Its instance profile's credentials, as IMDS serves them for the instance's life. */
  readonly credentials: Readonly<Record<string, string>>;
  device: DeviceProcess | undefined;
}

/**
 * `AWS::EC2::Instance` as a device, doing to the device what EC2 does to an
 * instance and nothing more (nothing else ever restarts a device):
 * - create (a new instance, a replacement included): boots its device runner
 *   (see {@link bootDevice}) with the instance's metadata as it is then, and a
 *   session of its instance profile's role (`IamInstanceProfile`) where the
 *   SDK's default credential chain finds it, as IMDS serves it on EC2;
 * - an update with "Some interruptions" (UserData, InstanceType…): the
 *   instance is stopped and started: the device process stops and starts
 *   again, with the configuration it first booted with, since user data runs
 *   at first boot only
 *   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html);
 * - an update with "No interruption" (Tags…) or of `Metadata` only: nothing;
 * - delete (terminate): stops the device.
 */
export class Ec2InstanceProvider implements ResourceProvider {
  /** Every running instance, by instance id. */
  private readonly instances = new Map<string, Instance>();

  constructor(
    private readonly stack: StackEnvironment,
    /** Devices run their messages once and exit (instead of `forever`). */
    private readonly runOnce: boolean,
    private readonly credentials: WorkloadCredentials = ADMIN_CREDENTIALS,
    /** Extra runner environment (see `DeviceBootOptions.environment`). */
    private readonly deviceEnvironment?: Readonly<Record<string, string>>,
  ) {}

  /** The device running on an instance, by instance id (physical id). */
  deviceOf(instanceId: string): DeviceProcess | undefined {
    return this.instances.get(instanceId)?.device;
  }

  /** The device of every running instance, by instance id. */
  get devices(): ReadonlyMap<string, DeviceProcess> {
    return new Map(
      [...this.instances].flatMap(([id, instance]) =>
        instance.device ? [[id, instance.device] as const] : [],
      ),
    );
  }

  async create({ logicalId, properties }: ResourceRequest): Promise<ProvisionedResource> {
    const instanceId = newInstanceId();
    const bootMetadata = this.stack.metadataOf(logicalId);
    const credentials = await this.credentials.forInstance(
      instanceId,
      properties.IamInstanceProfile,
    );
    const instance: Instance = { logicalId, bootMetadata, credentials, device: undefined };
    instance.device = this.boot(instance);
    this.instances.set(instanceId, instance);
    return {
      physicalId: instanceId,
      attributes: { PrivateIp: '10.0.0.10', AvailabilityZone: `${this.stack.region}a` },
    };
  }

  async update(request: ResourceRequest, current: DeployedResource): Promise<ProvisionedResource> {
    const behaviour = updateBehaviour(current.type, current.properties, request.properties);
    const instance = this.instances.get(current.physicalId);
    if (behaviour === 'some-interruptions' && instance) {
      this.stack.log(`${current.logicalId}: stopping and starting ${current.physicalId}`);
      await instance.device?.stop();
      instance.device = this.boot(instance);
    }
    return { physicalId: current.physicalId, attributes: current.attributes };
  }

  async delete({ physicalId }: DeployedResource): Promise<void> {
    await this.instances.get(physicalId)?.device?.stop();
    this.instances.delete(physicalId);
  }

  private boot(instance: Instance): DeviceProcess | undefined {
    return bootDevice({
      logicalId: instance.logicalId,
      metadata: instance.bootMetadata,
      credentials: instance.credentials,
      stack: this.stack,
      runOnce: this.runOnce,
      environment: this.deviceEnvironment,
    });
  }
}
