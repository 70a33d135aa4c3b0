import { randomBytes } from 'node:crypto';
import { bootDevice } from '../device-boot';
import type { DeviceProcess } from '../device-process';
import type {
  DeployedResource,
  ProvisionedResource,
  ResourceProvider,
  ResourceRequest,
  StackEnvironment,
} from '../resource-provider';

/**
 * `AWS::EC2::Instance` as a device: creating the instance boots its device
 * runner (see {@link bootDevice}), an update (new properties or metadata,
 * i.e. new user data) restarts the runner in place, deleting stops it.
 */
export class Ec2InstanceProvider implements ResourceProvider {
  /** The running device of each booted instance, by logical id. */
  readonly devices = new Map<string, DeviceProcess>();
  /** The resolved metadata each instance was last booted with, to notice a change. */
  private readonly bootedMetadata = new Map<string, string>();

  constructor(
    private readonly stack: StackEnvironment,
    /** Devices run their messages once and exit (instead of `forever`). */
    private readonly runOnce: boolean,
  ) {}

  async create({ logicalId }: ResourceRequest): Promise<ProvisionedResource> {
    const instanceId = `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
    this.boot(logicalId);
    return {
      physicalId: instanceId,
      attributes: { PrivateIp: '10.0.0.10', AvailabilityZone: `${this.stack.region}a` },
    };
  }

  /**
   * New user data: the instance is updated in place and its service
   * restarted. The recorded resource stays as it was (`undefined`), as the
   * deployer has always done: a later update compares against the properties
   * the instance was created with.
   */
  async update({ logicalId }: ResourceRequest): Promise<undefined> {
    await this.restart(logicalId);
    return undefined;
  }

  async delete({ logicalId }: DeployedResource): Promise<void> {
    await this.devices.get(logicalId)?.stop();
    this.devices.delete(logicalId);
  }

  /** Metadata carries what the instance's user data runs. */
  metadataChanged(logicalId: string): boolean {
    return JSON.stringify(this.stack.metadataOf(logicalId)) !== this.bootedMetadata.get(logicalId);
  }

  /**
   * A device keeps the credentials it fetched at boot; after a certificate
   * replacement its service is restarted so it fetches the new ones.
   */
  async afterUpdateReplacement(): Promise<void> {
    for (const logicalId of [...this.devices.keys()]) await this.restart(logicalId);
  }

  private async restart(logicalId: string): Promise<void> {
    await this.devices.get(logicalId)?.stop();
    this.devices.delete(logicalId);
    this.stack.log(`restarting the device service of ${logicalId}`);
    this.boot(logicalId);
  }

  private boot(logicalId: string): void {
    const metadata = this.stack.metadataOf(logicalId);
    this.bootedMetadata.set(logicalId, JSON.stringify(metadata));
    const device = bootDevice({ logicalId, metadata, stack: this.stack, runOnce: this.runOnce });
    if (device) this.devices.set(logicalId, device);
  }
}
