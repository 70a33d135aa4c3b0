import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeletePolicyCommand,
  DeleteThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ListCertificatesCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
} from '@aws-sdk/client-iot';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { LocalCloud } from '@thingcert/local-cloud';
import type { StackArtifact, Template, TemplateResource } from './cloud-assembly';
import { deployOrder } from './dependency-order';
import { DeviceProcess } from './device-process';
import { LeftoverResourcesError, ResourceStepError, TemplateError } from './errors';
import { evaluateCondition, resolveValue, type ResolveContext } from './intrinsics';
import { invokeFunction, type LocalFunction } from './lambda-invoker';
import { ResponseEndpoint, type CustomResourceAnswer } from './response-endpoint';

/** A resource as it exists in the local deployment. */
export interface DeployedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly properties: Readonly<Record<string, unknown>>;
  /** True for types the deployer does not emulate (VPC, IAM, KMS…): ids only. */
  readonly skipped: boolean;
}

/** Options for {@link LocalStack}. */
export interface LocalStackOptions {
  readonly cloud: LocalCloud;
  /** Receives every line the deployer, the functions and the devices print. */
  readonly log: (source: string, line: string) => void;
  /**
   * Devices run the configured messages once and exit (instead of `forever`).
   * @default false
   */
  readonly devicesRunOnce?: boolean;
  /** Extra environment for every function invocation (tests inject faults here). */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Template parameter values. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

const SSM_PARAMETER_DEFAULTS: Record<string, string> = {
  '/cdk-bootstrap/hnb659fds/version': '30',
};

const CUSTOM_RESOURCE = /^(Custom::|AWS::CloudFormation::CustomResource$)/;

function shortId(): string {
  return randomBytes(6).toString('hex').toUpperCase();
}

function generatedName(stackName: string, logicalId: string, max = 128): string {
  return `${stackName}-${logicalId}-${shortId()}`.slice(0, max);
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

/**
 * A CloudFormation stack deployed onto the local cloud: walks resources in
 * dependency order, resolves intrinsics, creates what the local cloud
 * emulates, invokes Lambda-backed custom resources with real events, boots
 * device instances, and deletes in reverse order with real Delete events.
 */
export class LocalStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly resources = new Map<string, DeployedResource>();
  readonly devices = new Map<string, DeviceProcess>();
  private readonly functions = new Map<string, LocalFunction>();
  private readonly iot: IoTClient;
  private readonly s3: S3Client;
  private readonly endpoint = new ResponseEndpoint();
  private template: Template = { Resources: {} };
  private assets: ReadonlyMap<string, string> = new Map();
  private conditions: Record<string, boolean> = {};
  /** Resolved metadata per resource, to notice user-data style changes on update. */
  private readonly metadata = new Map<string, string>();

  constructor(
    stackName: string,
    private readonly options: LocalStackOptions,
  ) {
    this.stackName = stackName;
    const { cloud } = options;
    this.stackId = `arn:aws:cloudformation:${cloud.region}:${cloud.accountId}:stack/${stackName}/${randomUUID()}`;
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    this.iot = new IoTClient({ region: cloud.region, endpoint: cloud.iotEndpoint, credentials });
    this.s3 = new S3Client({
      region: cloud.region,
      endpoint: cloud.s3Endpoint,
      credentials,
      forcePathStyle: true,
    });
  }

  private log(line: string): void {
    this.options.log('deploy', line);
  }

  private get region(): string {
    return this.options.cloud.region;
  }

  private get accountId(): string {
    return this.options.cloud.accountId;
  }

  private context(): ResolveContext {
    const parameters: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(this.template.Parameters ?? {})) {
      const given = this.options.parameters?.[name];
      if (given !== undefined) parameters[name] = given;
      else if (spec.Type.startsWith('AWS::SSM::Parameter::Value')) {
        parameters[name] = SSM_PARAMETER_DEFAULTS[String(spec.Default)] ?? '';
      } else if (spec.Default !== undefined) parameters[name] = spec.Default;
      else throw new TemplateError(`parameter ${name} has no value and no default`);
    }
    return {
      pseudo: {
        'AWS::Region': this.region,
        'AWS::AccountId': this.accountId,
        'AWS::Partition': 'aws',
        'AWS::StackName': this.stackName,
        'AWS::StackId': this.stackId,
        'AWS::URLSuffix': 'amazonaws.com',
      },
      parameters,
      conditions: this.conditions,
      ref: (id) => this.resources.get(id)?.physicalId,
      getAtt: (id, attribute) => this.resources.get(id)?.attributes[attribute],
    };
  }

  private evaluateConditions(): void {
    this.conditions = {};
    for (const [name, expression] of Object.entries(this.template.Conditions ?? {})) {
      const value = resolveValue(expression, this.context());
      this.conditions[name] = value === true || value === 'true';
    }
  }

  private included(resource: TemplateResource): boolean {
    return (
      resource.Condition === undefined || evaluateCondition(resource.Condition, this.context())
    );
  }

  /** Deploys a synthesized stack; on failure rolls back what it created and throws. */
  async deploy(artifact: StackArtifact): Promise<void> {
    await this.endpoint.start();
    this.template = artifact.template;
    this.assets = artifact.assetsByObjectKey;
    this.evaluateConditions();
    const order = deployOrder(this.template);
    try {
      for (const logicalId of order) {
        const resource = this.template.Resources[logicalId]!;
        if (!this.included(resource)) continue;
        await this.create(logicalId, resource);
      }
    } catch (error) {
      this.log(
        `deploy failed: ${error instanceof Error ? error.message : String(error)}; rolling back`,
      );
      // Everything recorded, including a failed custom resource with the id
      // it answered: CloudFormation sends that one a Delete too.
      await this.deleteResources(order.filter((id) => this.resources.has(id)).reverse());
      throw error;
    }
    const skipped = [...this.resources.values()]
      .filter((r) => r.skipped)
      .map((r) => `${r.logicalId} (${r.type})`);
    if (skipped.length > 0) this.log(`not emulated, ids only: ${skipped.join(', ')}`);
  }

  /** Resolved stack outputs. */
  outputs(): Record<string, unknown> {
    const ctx = this.context();
    return Object.fromEntries(
      Object.entries(this.template.Outputs ?? {})
        .filter(
          ([, output]) =>
            output.Condition === undefined || evaluateCondition(output.Condition, ctx),
        )
        .map(([name, output]) => [name, resolveValue(output.Value, ctx)]),
    );
  }

  /**
   * Updates the stack to a new template: changed custom resources get an
   * Update event (a new physical id is a replacement: dependents are
   * replaced and the old id gets a Delete at cleanup), other changed
   * resources are replaced, devices whose configuration or credentials
   * changed are rebooted.
   */
  async update(artifact: StackArtifact): Promise<void> {
    const previous = this.template;
    this.template = artifact.template;
    this.assets = artifact.assetsByObjectKey;
    this.evaluateConditions();
    const cleanup: DeployedResource[] = [];
    let replacedCustomResource = false;
    for (const logicalId of deployOrder(this.template)) {
      const resource = this.template.Resources[logicalId]!;
      const before = this.resources.get(logicalId);
      if (!this.included(resource)) continue;
      if (!before) {
        await this.create(logicalId, resource);
        continue;
      }
      // Properties are resolved against current state, so a replaced
      // dependency (new certificate ARN) shows up as a property change here.
      const properties = this.resolveProperties(logicalId, resource);
      const metadata = JSON.stringify(resolveValue(resource.Metadata ?? {}, this.context()));
      const sameProperties = JSON.stringify(properties) === JSON.stringify(before.properties);
      // Metadata matters for instances only: it carries what their user data runs.
      const sameMetadata =
        resource.Type !== 'AWS::EC2::Instance' || metadata === this.metadata.get(logicalId);
      if (sameProperties && sameMetadata) continue;
      if (CUSTOM_RESOURCE.test(resource.Type)) {
        const answer = await this.customResource('Update', logicalId, resource, properties, before);
        this.record(
          logicalId,
          resource.Type,
          answer.PhysicalResourceId,
          answer.Data ?? {},
          properties,
        );
        if (answer.PhysicalResourceId !== before.physicalId) {
          cleanup.push(before);
          replacedCustomResource = true;
        }
        continue;
      }
      if (resource.Type === 'AWS::EC2::Instance') {
        // New user data: the instance is updated in place and its service restarted.
        await this.rebootDevice(logicalId, resource);
        continue;
      }
      // Replacement: create the new one first, delete the old one at cleanup.
      this.resources.delete(logicalId);
      await this.create(logicalId, resource);
      cleanup.push(before);
    }
    for (const logicalId of Object.keys(previous.Resources)) {
      const gone = this.resources.get(logicalId);
      if (gone && !(logicalId in this.template.Resources)) {
        cleanup.push(gone);
        this.resources.delete(logicalId);
      }
    }
    for (const old of cleanup.reverse()) {
      this.log(`cleanup: deleting replaced ${old.logicalId} (${old.physicalId})`);
      await this.deleteOne(old);
    }
    if (replacedCustomResource) {
      // A device keeps the credentials it fetched at boot; after a certificate
      // replacement its service is restarted so it fetches the new ones.
      for (const logicalId of [...this.devices.keys()]) {
        await this.rebootDevice(logicalId, this.template.Resources[logicalId]!);
      }
    }
  }

  private async rebootDevice(logicalId: string, resource: TemplateResource): Promise<void> {
    await this.devices.get(logicalId)?.stop();
    this.devices.delete(logicalId);
    this.log(`restarting the device service of ${logicalId}`);
    this.bootDevice(logicalId, resource);
  }

  private resolveProperties(
    logicalId: string,
    resource: TemplateResource,
  ): Record<string, unknown> {
    try {
      return resolveValue(resource.Properties ?? {}, this.context()) as Record<string, unknown>;
    } catch (error) {
      throw new ResourceStepError(
        logicalId,
        'resolve properties',
        error instanceof Error ? error.message : String(error),
        { cause: error },
      );
    }
  }

  private record(
    logicalId: string,
    type: string,
    physicalId: string,
    attributes: Record<string, unknown>,
    properties: Record<string, unknown>,
    skipped = false,
  ): DeployedResource {
    const resource = { logicalId, type, physicalId, attributes, properties, skipped };
    this.resources.set(logicalId, resource);
    return resource;
  }

  private async step<T>(logicalId: string, step: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof ResourceStepError) throw error;
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new ResourceStepError(logicalId, step, reason, { cause: error });
    }
  }

  private async create(logicalId: string, resource: TemplateResource): Promise<void> {
    const properties = this.resolveProperties(logicalId, resource);
    const { Type: type } = resource;
    const arn = (service: string, rest: string) =>
      `arn:aws:${service}:${this.region}:${this.accountId}:${rest}`;
    switch (type) {
      case 'AWS::S3::Bucket': {
        const name = (
          typeof properties.BucketName === 'string'
            ? properties.BucketName
            : generatedName(this.stackName, logicalId, 63)
        ).toLowerCase();
        await this.step(logicalId, 'CreateBucket', () =>
          this.s3.send(new CreateBucketCommand({ Bucket: name })),
        );
        this.record(
          logicalId,
          type,
          name,
          {
            Arn: `arn:aws:s3:::${name}`,
            DomainName: `${name}.s3.amazonaws.com`,
            RegionalDomainName: `${name}.s3.${this.region}.amazonaws.com`,
          },
          properties,
        );
        this.log(`created ${logicalId} (bucket ${name})`);
        return;
      }
      case 'AWS::IoT::Thing': {
        const name =
          typeof properties.ThingName === 'string'
            ? properties.ThingName
            : generatedName(this.stackName, logicalId);
        await this.step(logicalId, 'CreateThing', () =>
          this.iot.send(new CreateThingCommand({ thingName: name })),
        );
        this.record(
          logicalId,
          type,
          name,
          { Arn: arn('iot', `thing/${name}`), Id: randomUUID() },
          properties,
        );
        this.log(`created ${logicalId} (thing ${name})`);
        return;
      }
      case 'AWS::IoT::Policy': {
        const name =
          typeof properties.PolicyName === 'string'
            ? properties.PolicyName
            : generatedName(this.stackName, logicalId);
        const document =
          typeof properties.PolicyDocument === 'string'
            ? properties.PolicyDocument
            : JSON.stringify(properties.PolicyDocument);
        await this.step(logicalId, 'CreatePolicy', () =>
          this.iot.send(new CreatePolicyCommand({ policyName: name, policyDocument: document })),
        );
        this.record(
          logicalId,
          type,
          name,
          { Arn: arn('iot', `policy/${name}`), Id: name },
          properties,
        );
        this.log(`created ${logicalId} (policy ${name})`);
        return;
      }
      case 'AWS::IoT::PolicyPrincipalAttachment': {
        const policyName = String(properties.PolicyName);
        const principal = String(properties.Principal);
        await this.step(logicalId, 'AttachPolicy', () =>
          this.iot.send(new AttachPolicyCommand({ policyName, target: principal })),
        );
        this.record(logicalId, type, `${policyName}|${principal}`, {}, properties);
        this.log(`created ${logicalId} (policy ${policyName} → certificate)`);
        return;
      }
      case 'AWS::IoT::ThingPrincipalAttachment': {
        const thingName = String(properties.ThingName);
        const principal = String(properties.Principal);
        await this.step(logicalId, 'AttachThingPrincipal', () =>
          this.iot.send(new AttachThingPrincipalCommand({ thingName, principal })),
        );
        this.record(logicalId, type, `${thingName}|${principal}`, {}, properties);
        this.log(`created ${logicalId} (thing ${thingName} ↔ certificate)`);
        return;
      }
      case 'AWS::Lambda::Function': {
        const fn = this.registerFunction(logicalId, properties);
        this.record(logicalId, type, fn.functionName, { Arn: fn.arn }, properties);
        this.log(
          `created ${logicalId} (function ${fn.functionName}, ${fn.timeoutSeconds} s timeout)`,
        );
        return;
      }
      case 'AWS::EC2::Instance': {
        const instanceId = `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
        this.record(
          logicalId,
          type,
          instanceId,
          {
            PrivateIp: '10.0.0.10',
            AvailabilityZone: `${this.region}a`,
          },
          properties,
        );
        this.bootDevice(logicalId, resource);
        return;
      }
      default:
        break;
    }
    if (CUSTOM_RESOURCE.test(type)) {
      const answer = await this.customResource('Create', logicalId, resource, properties);
      this.record(logicalId, type, answer.PhysicalResourceId, answer.Data ?? {}, properties);
      return;
    }
    const physicalId = `${this.stackName}-${logicalId}-${shortId()}`;
    const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
    const attributes = new Proxy<Record<string, unknown>>(
      {},
      {
        // Attributes of resources we do not emulate: AWS-shaped placeholders.
        get: (_target, key) =>
          typeof key === 'string'
            ? key.endsWith('Arn') || key === 'Arn'
              ? arn(service, `${type.split('::')[2]?.toLowerCase() ?? 'resource'}/${physicalId}`)
              : `${physicalId}-${key}`
            : undefined,
      },
    );
    this.record(logicalId, type, physicalId, attributes, properties, true);
  }

  private assetDirFor(logicalId: string, s3Key: unknown): string {
    const dir = typeof s3Key === 'string' ? this.assets.get(s3Key) : undefined;
    if (!dir || !existsSync(dir)) {
      throw new ResourceStepError(
        logicalId,
        'find asset',
        `asset ${String(s3Key)} is not in the cloud assembly`,
      );
    }
    return dir;
  }

  private registerFunction(logicalId: string, properties: Record<string, unknown>): LocalFunction {
    const code = (properties.Code ?? {}) as Record<string, unknown>;
    if (typeof code.ZipFile === 'string') {
      throw new ResourceStepError(
        logicalId,
        'create function',
        'inline ZipFile code is not emulated',
      );
    }
    const functionName =
      typeof properties.FunctionName === 'string'
        ? properties.FunctionName
        : generatedName(this.stackName, logicalId, 64);
    const environment = stringMap(
      (properties.Environment as { Variables?: unknown } | undefined)?.Variables,
    );
    const fn: LocalFunction = {
      functionName,
      arn: `arn:aws:lambda:${this.region}:${this.accountId}:function:${functionName}`,
      assetDir: this.assetDirFor(logicalId, code.S3Key),
      handler: typeof properties.Handler === 'string' ? properties.Handler : 'index.handler',
      timeoutSeconds: Number(properties.Timeout ?? 3),
      environment,
    };
    this.functions.set(fn.arn, fn);
    return fn;
  }

  private async customResource(
    requestType: 'Create' | 'Update' | 'Delete',
    logicalId: string,
    resource: Pick<TemplateResource, 'Type'>,
    properties: Record<string, unknown>,
    previous?: DeployedResource,
  ): Promise<CustomResourceAnswer> {
    const serviceToken = String(properties.ServiceToken);
    const fn = this.functions.get(serviceToken);
    if (!fn)
      throw new ResourceStepError(
        logicalId,
        requestType,
        `ServiceToken ${serviceToken} is not a deployed function`,
      );
    const serviceTimeoutSeconds = Math.min(3600, Number(properties.ServiceTimeout ?? 3600));
    const { ServiceTimeout: _timeout, ...resourceProperties } = properties;
    const { url, answer } = this.endpoint.expectAnswer();
    const event = {
      RequestType: requestType,
      ServiceToken: serviceToken,
      ResponseURL: url,
      StackId: this.stackId,
      RequestId: randomUUID(),
      ResourceType: resource.Type,
      LogicalResourceId: logicalId,
      ResourceProperties: stringify(resourceProperties),
      ...(previous ? { PhysicalResourceId: previous.physicalId } : {}),
      ...(requestType === 'Update' && previous
        ? { OldResourceProperties: stringify(omitTimeout(previous.properties)) }
        : {}),
    };
    this.log(`${requestType} ${logicalId} (${resource.Type}) → ${fn.functionName}`);
    const baseEnv = {
      ...this.options.cloud.env,
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      ...this.options.functionEnvironment,
    };
    // Lambda runs CloudFormation's asynchronous invocation and retries it
    // twice when the function fails; CloudFormation itself only ever waits
    // for the answer (or the ServiceTimeout).
    // Once CloudFormation has its answer, a failed invocation is not retried.
    let answered = false;
    void answer.then(() => (answered = true));
    const invocations = (async (): Promise<never> => {
      for (let attempt = 1; attempt <= 3 && !answered; attempt++) {
        const outcome = await invokeFunction(fn, event, baseEnv, (line) =>
          this.options.log(`lambda ${fn.functionName}`, line),
        );
        if (outcome.exitCode === 0 && !outcome.timedOut) break;
        this.log(
          `${fn.functionName} ${outcome.timedOut ? 'timed out' : `failed (exit ${outcome.exitCode})`} on attempt ${attempt} of 3`,
        );
      }
      // Give a response still in flight a moment to land before giving up.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      throw new Error(
        `the function finished without answering CloudFormation; on AWS the stack would wait the ServiceTimeout of ${serviceTimeoutSeconds} s`,
      );
    })();
    invocations.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`no response within the ServiceTimeout of ${serviceTimeoutSeconds} s`)),
        serviceTimeoutSeconds * 1000,
      );
    });
    try {
      const result = await this.step(logicalId, requestType, () =>
        Promise.race([answer, timeout, invocations]),
      );
      if (result.Status === 'FAILED') {
        if (requestType === 'Create') {
          // CloudFormation records the id a failed Create answered, and sends it a Delete on rollback.
          this.record(logicalId, resource.Type, result.PhysicalResourceId, {}, properties);
        }
        throw new ResourceStepError(
          logicalId,
          requestType,
          result.Reason ?? 'FAILED without a reason',
        );
      }
      this.log(`${requestType} ${logicalId} SUCCESS (physical id ${result.PhysicalResourceId})`);
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  private bootDevice(logicalId: string, resource: TemplateResource): void {
    const metadata = resolveValue(resource.Metadata ?? {}, this.context()) as Record<
      string,
      unknown
    >;
    this.metadata.set(logicalId, JSON.stringify(metadata));
    const runner = metadata['Thingcert::DeviceRunner'] as
      { config?: Record<string, unknown>; asset?: { s3Key?: string } } | undefined;
    if (!runner?.config) {
      this.log(`${logicalId}: EC2 instance without Thingcert::DeviceRunner metadata: not booted`);
      return;
    }
    const bundleDir = this.assetDirFor(logicalId, runner.asset?.s3Key);
    const config: Record<string, unknown> = {
      ...runner.config,
      ...(this.options.devicesRunOnce ? { forever: false } : {}),
    };
    const name = typeof config.thing === 'string' ? config.thing : logicalId;
    const device = new DeviceProcess({
      name,
      bundleDir,
      config,
      env: {
        ...this.options.cloud.env,
        AWS_REGION: this.region,
      },
      onLine: (line) => this.options.log(`device ${name}`, line),
    });
    this.devices.set(logicalId, device);
    this.log(`booted ${logicalId} (device runner for ${name} in ${device.directory})`);
  }

  /** Deletes the whole stack in reverse dependency order and checks nothing is left. */
  async destroy(): Promise<void> {
    const order = deployOrder(this.template)
      .filter((id) => this.resources.has(id))
      .reverse();
    const failures = await this.deleteResources(order);
    await this.endpoint.stop();
    const leftovers = [...failures, ...(await this.leftovers())];
    if (leftovers.length > 0) throw new LeftoverResourcesError(leftovers);
    this.log('stack deleted; no certificate, thing, attachment or object left');
  }

  private async deleteResources(logicalIds: string[]): Promise<string[]> {
    const failures: string[] = [];
    for (const logicalId of logicalIds) {
      const resource = this.resources.get(logicalId);
      if (!resource) continue;
      try {
        await this.deleteOne(resource);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
        this.log(`delete failed: ${failures.at(-1)}`);
      }
      this.resources.delete(logicalId);
    }
    return failures;
  }

  private async deleteOne(resource: DeployedResource): Promise<void> {
    const { logicalId, type, physicalId, properties } = resource;
    switch (type) {
      case 'AWS::EC2::Instance':
        await this.devices.get(logicalId)?.stop();
        this.devices.delete(logicalId);
        return;
      case 'AWS::IoT::ThingPrincipalAttachment':
        await this.step(logicalId, 'DetachThingPrincipal', () =>
          this.iot.send(
            new DetachThingPrincipalCommand({
              thingName: String(properties.ThingName),
              principal: String(properties.Principal),
            }),
          ),
        );
        return;
      case 'AWS::IoT::PolicyPrincipalAttachment':
        await this.step(logicalId, 'DetachPolicy', () =>
          this.iot.send(
            new DetachPolicyCommand({
              policyName: String(properties.PolicyName),
              target: String(properties.Principal),
            }),
          ),
        );
        return;
      case 'AWS::IoT::Policy':
        await this.step(logicalId, 'DeletePolicy', () =>
          this.iot.send(new DeletePolicyCommand({ policyName: physicalId })),
        );
        return;
      case 'AWS::IoT::Thing':
        await this.step(logicalId, 'DeleteThing', () =>
          this.iot.send(new DeleteThingCommand({ thingName: physicalId })),
        );
        return;
      case 'AWS::S3::Bucket':
        await this.step(logicalId, 'DeleteBucket', () => this.deleteBucket(physicalId));
        return;
      case 'AWS::Lambda::Function':
        this.functions.delete(String(resource.attributes.Arn));
        return;
      default:
        break;
    }
    if (CUSTOM_RESOURCE.test(type)) {
      await this.customResource('Delete', logicalId, { Type: type }, properties, resource);
    }
  }

  private async deleteBucket(bucket: string): Promise<void> {
    const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((object) => object.Key!).filter(Boolean);
    if (keys.length > 0) {
      // CloudFormation would refuse to delete a non-empty bucket: report what the stack left.
      await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })) },
        }),
      );
      await this.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      throw new Error(
        `bucket ${bucket} still held ${keys.length} object(s): ${keys.slice(0, 5).join(', ')}`,
      );
    }
    await this.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  }

  private async leftovers(): Promise<string[]> {
    const found: string[] = [];
    const certificates = await this.iot.send(new ListCertificatesCommand({}));
    for (const certificate of certificates.certificates ?? []) {
      found.push(`certificate ${certificate.certificateId} (${certificate.status})`);
    }
    const things = await this.iot.send(new ListThingsCommand({}));
    for (const thing of things.things ?? []) {
      const principals = await this.iot.send(
        new ListThingPrincipalsCommand({ thingName: thing.thingName }),
      );
      found.push(
        `thing ${thing.thingName} with ${principals.principals?.length ?? 0} principal(s)`,
      );
    }
    return found;
  }
}

function omitTimeout(properties: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { ServiceTimeout: _timeout, ...rest } = properties;
  return rest;
}

/** CloudFormation delivers every scalar property of a custom resource as a string. */
function stringify(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringify);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, stringify(item)]));
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}
