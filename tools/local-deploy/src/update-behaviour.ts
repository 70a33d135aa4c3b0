import { CUSTOM_RESOURCE_TYPE } from './custom-resource-type';

/**
 * How CloudFormation applies a change to a resource's properties, from each
 * property's "Update requires" line in the resource reference:
 * - `none`: nothing changed; no call at all.
 * - `no-interruption`: updated in place, same physical id.
 * - `some-interruptions`: updated in place with an interruption (an instance
 *   is stopped and started), same physical id.
 * - `replacement`: a new physical resource is created in the update phase; the
 *   old one is deleted in cleanup.
 * - `provider-decides`: a custom resource; it always gets an `Update`, and
 *   answering a new physical id makes it a replacement.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-update-behaviors.html
 */
export type UpdateBehaviour =
  'none' | 'no-interruption' | 'some-interruptions' | 'replacement' | 'provider-decides';

/** The "Update requires" of one type's properties; any property not listed: No interruption. */
interface TypeUpdateRules {
  /** "Update requires: Replacement". */
  readonly replacement: readonly string[];
  /** "Update requires: Some interruptions". */
  readonly someInterruptions?: readonly string[];
}

const TEMPLATE_REFERENCE = 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference';

/**
 * The types the local cloud emulates (IAM, bucket policies and KMS keys when
 * IAM is enforced), from each type's page in the template reference (see
 * {@link updateRulesSource}). Types not listed here are ids only: every
 * change keeps the physical id.
 */
const RULES: Readonly<Record<string, TypeUpdateRules>> = {
  'AWS::EC2::Instance': {
    // "During a replacement, AWS CloudFormation creates a new instance but
    // doesn't delete the old instance until the stack has successfully updated."
    replacement: [
      'AvailabilityZone',
      'CpuOptions',
      'ElasticGpuSpecifications',
      'ElasticInferenceAccelerators',
      'EnclaveOptions',
      'HibernationOptions',
      'HostResourceGroupArn',
      'ImageId',
      'Ipv6AddressCount',
      'Ipv6Addresses',
      'KeyName',
      'LaunchTemplate',
      'LicenseSpecifications',
      'NetworkInterfaces',
      'PlacementGroupName',
      'PrivateIpAddress',
      'SecurityGroups',
      'SubnetId',
    ],
    // Applied by stopping and starting the instance. User data runs at first
    // boot only, so a new UserData reaches a running instance only through a
    // replacement (CDK's userDataCausesReplacement changes the logical id).
    someInterruptions: [
      'AdditionalInfo',
      'Affinity',
      'BlockDeviceMappings',
      'EbsOptimized',
      'HostId',
      'InstanceType',
      'KernelId',
      'RamdiskId',
      'SecurityGroupIds',
      'Tenancy',
      'UserData',
    ],
  },
  'AWS::IoT::Thing': { replacement: ['ThingName'] },
  // PolicyDocument is updated in place with a new default policy version: the
  // registry schema lists only PolicyName as create-only
  // (aws-cloudformation-resource-providers-iot, aws-iot-policy.json).
  'AWS::IoT::Policy': { replacement: ['PolicyName'] },
  'AWS::IoT::PolicyPrincipalAttachment': { replacement: ['PolicyName', 'Principal'] },
  'AWS::IoT::ThingPrincipalAttachment': { replacement: ['Principal', 'ThingName'] },
  'AWS::S3::Bucket': { replacement: ['BucketName'] },
  'AWS::Lambda::Function': { replacement: ['FunctionName', 'PackageType'] },
  // Static groups; QueryString (a dynamic group) is not emulated.
  'AWS::IoT::ThingGroup': { replacement: ['ThingGroupName', 'ParentGroupName'] },
  'AWS::IoT::ProvisioningTemplate': { replacement: ['TemplateName', 'TemplateType'] },
  // Sizes, launch template and hooks: No interruption (scaling, new launches).
  'AWS::AutoScaling::AutoScalingGroup': { replacement: ['AutoScalingGroupName', 'InstanceId'] },
  'AWS::AutoScaling::LifecycleHook': {
    replacement: ['AutoScalingGroupName', 'LifecycleHookName'],
  },
  'AWS::Events::Rule': { replacement: ['Name', 'EventBusName'] },
  // Inline `Policies` are No interruption: updated in the update phase.
  'AWS::IAM::Role': { replacement: ['Path', 'RoleName'] },
  // PolicyDocument, PolicyName, Roles, Groups, Users: all No interruption.
  'AWS::IAM::Policy': { replacement: [] },
  // PolicyDocument, Roles, Groups, Users: No interruption (a new default policy version).
  'AWS::IAM::ManagedPolicy': { replacement: ['Description', 'ManagedPolicyName', 'Path'] },
  'AWS::IAM::InstanceProfile': { replacement: ['InstanceProfileName', 'Path'] },
  'AWS::S3::BucketPolicy': { replacement: ['Bucket'] },
  // KeySpec, KeyUsage, Origin and MultiRegion cannot change: the update fails (providers/kms.ts).
  'AWS::KMS::Key': { replacement: [] },
  'AWS::KMS::Alias': { replacement: ['AliasName'] },
};

/** JSON with object keys sorted, so that equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

/** The top-level properties whose values differ (added and removed ones included). */
export function changedProperties(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => canonical(before[name]) !== canonical(after[name]));
}

/**
 * How CloudFormation applies the change from `before` to `after` to a
 * resource of `type`: the most disruptive behaviour among the changed
 * properties.
 */
export function updateBehaviour(
  type: string,
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): UpdateBehaviour {
  const changed = changedProperties(before, after);
  if (changed.length === 0) return 'none';
  if (CUSTOM_RESOURCE_TYPE.test(type)) return 'provider-decides';
  const rules = RULES[type];
  if (!rules) return 'no-interruption';
  if (changed.some((name) => rules.replacement.includes(name))) return 'replacement';
  if (changed.some((name) => rules.someInterruptions?.includes(name))) {
    return 'some-interruptions';
  }
  return 'no-interruption';
}

/**
 * The reference page the update rules of `type` come from, e.g.
 * `…/TemplateReference/aws-resource-iot-thing.html`; `undefined` for ids-only types.
 */
export function updateRulesSource(type: string): string | undefined {
  if (!RULES[type]) return undefined;
  const [, service, kind] = type.toLowerCase().split('::');
  return `${TEMPLATE_REFERENCE}/aws-resource-${service}-${kind}.html`;
}
