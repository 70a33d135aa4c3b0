import {
  DescribeProvisioningTemplateCommand,
  DescribeThingGroupCommand,
} from '@aws-sdk/client-iot';
import { FLEET_DEVICE_RUNNER_METADATA_KEY } from '@thingcert/contracts';
import { startLocalCloud, type LambdaInvoker, type LocalCloud } from '@thingcert/local-cloud';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackArtifact, Template } from './cloud-assembly';
import { EXECUTION_ROLE, withRole } from '../test/execution-role';
import { LocalStack } from './local-stack';

// A fleet as hand-written CloudFormation (the shape ProvisionedFleet
// synthesizes) on the local cloud: a thing group, a provisioning template
// whose hook is an inline function, an Auto Scaling group of stand-in
// devices, a terminating lifecycle hook and the EventBridge rule sending
// its events to an inline deregistration function, which records each event
// and calls CompleteLifecycleAction on the deployer's Auto Scaling endpoint.

const work = mkdtempSync(join(tmpdir(), 'thingcert-fleet-providers-'));
const bundleDir = join(import.meta.dirname, '..', 'test', 'fixtures', 'stand-in-runner');
let cloud: LocalCloud;
/** The invoker the deployer handed the local IoT for pre-provisioning hooks. */
let invoker: LambdaInvoker | undefined;

beforeAll(async () => {
  cloud = await startLocalCloud();
  const setLambdaInvoker = cloud.fleetProvisioning.setLambdaInvoker.bind(cloud.fleetProvisioning);
  cloud.fleetProvisioning.setLambdaInvoker = (next) => {
    invoker = next;
    setLambdaInvoker(next);
  };
});
afterAll(async () => {
  await cloud.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The pre-provisioning hook: allows names starting `fleet-`; `Slow` makes it hang. */
const HOOK_CODE = `exports.handler = async (event) => {
  if (event.parameters.Slow) await new Promise((resolve) => setTimeout(resolve, 30000));
  return { allowProvisioning: event.parameters.ThingName.startsWith('fleet-') };
};`;

/** Records the lifecycle event, then completes the action (a raw query call, no SDK inline). */
function deregistrationCode(recordFile: string): string {
  return `const { appendFileSync } = require('node:fs');
exports.handler = async (event) => {
  appendFileSync(${JSON.stringify(recordFile)}, JSON.stringify(event) + '\\n');
  const d = event.detail;
  const body = new URLSearchParams({ Action: 'CompleteLifecycleAction', Version: '2011-01-01',
    AutoScalingGroupName: d.AutoScalingGroupName, LifecycleHookName: d.LifecycleHookName,
    LifecycleActionToken: d.LifecycleActionToken, LifecycleActionResult: 'CONTINUE' });
  const response = await fetch(process.env.AWS_ENDPOINT_URL_AUTO_SCALING, { method: 'POST', body,
    headers: { authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/autoscaling/aws4_request' } });
  if (!response.ok) throw new Error('CompleteLifecycleAction: ' + response.status + ' ' + await response.text());
};`;
}

function inlineFunction(code: string, timeout = 10) {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: { Handler: 'index.handler', Timeout: timeout, Code: { ZipFile: code } },
  };
}

let stacks = 0;

function fleetTemplate(n: number, recordFile: string, desired: string, inlineHooks: boolean) {
  const groupName = `fleet-group-${n}`;
  const fleetName = `fleet-asg-${n}`;
  const templateBody = {
    Parameters: { ThingName: { Type: 'String' } },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: { ThingName: { Ref: 'ThingName' }, ThingGroups: [groupName] },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
      },
    },
  };
  const hookProperties = {
    LifecycleHookName: 'deregister',
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    DefaultResult: 'CONTINUE',
    HeartbeatTimeout: 60,
  };
  const resources: Record<string, unknown> = {
    Group: { Type: 'AWS::IoT::ThingGroup', Properties: { ThingGroupName: groupName } },
    // IAM is enforced: Lambda runs each function as its execution role.
    FunctionRole: EXECUTION_ROLE,
    HookFunction: withRole(inlineFunction(HOOK_CODE), 'FunctionRole'),
    DeregisterFunction: withRole(inlineFunction(deregistrationCode(recordFile)), 'FunctionRole'),
    Template: {
      Type: 'AWS::IoT::ProvisioningTemplate',
      DependsOn: 'Group',
      Properties: {
        TemplateName: `fleet-template-${n}`,
        Enabled: true,
        ProvisioningRoleArn: 'arn:aws:iam::000000000000:role/fleet-provisioning',
        TemplateBody: JSON.stringify(templateBody),
        PreProvisioningHook: {
          TargetArn: { 'Fn::GetAtt': ['HookFunction', 'Arn'] },
          PayloadVersion: '2020-04-01',
        },
      },
    },
    Rule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: {
          source: ['aws.autoscaling'],
          'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
          // Inline hooks: the group's name as a literal, so the rule outlives the group.
          detail: { AutoScalingGroupName: [inlineHooks ? fleetName : { Ref: 'Fleet' }] },
        },
        Targets: [{ Id: 'deregister', Arn: { 'Fn::GetAtt': ['DeregisterFunction', 'Arn'] } }],
      },
    },
    Fleet: {
      Type: 'AWS::AutoScaling::AutoScalingGroup',
      ...(inlineHooks ? { DependsOn: 'Rule' } : {}),
      Metadata: {
        [FLEET_DEVICE_RUNNER_METADATA_KEY]: {
          config: { behaviour: 'wait' },
          asset: { s3Bucket: 'assets', s3Key: 'runner.zip' },
        },
      },
      Properties: {
        AutoScalingGroupName: fleetName,
        MinSize: '0',
        MaxSize: '5',
        DesiredCapacity: desired,
        ...(inlineHooks ? { LifecycleHookSpecificationList: [hookProperties] } : {}),
      },
    },
    ...(inlineHooks
      ? {}
      : {
          Hook: {
            Type: 'AWS::AutoScaling::LifecycleHook',
            Properties: { AutoScalingGroupName: { Ref: 'Fleet' }, ...hookProperties },
          },
        }),
  };
  return resources;
}

function scenario(inlineHooks: boolean) {
  const n = ++stacks;
  const name = `Fleet${n}`;
  const recordFile = join(work, `${name}.jsonl`);
  const lines: string[] = [];
  const stack = new LocalStack(name, {
    cloud,
    log: (source, line) => lines.push(`[${source}] ${line}`),
  });
  const artifact = (desired: string): StackArtifact => ({
    stackName: name,
    template: {
      Resources: fleetTemplate(n, recordFile, desired, inlineHooks),
    } as unknown as Template,
    assetsByObjectKey: new Map([['runner.zip', bundleDir]]),
  });
  const recorded = (): {
    detail: Record<string, string>;
    source: string;
    'detail-type': string;
  }[] =>
    existsSync(recordFile)
      ? readFileSync(recordFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map(
            (line) =>
              JSON.parse(line) as {
                detail: Record<string, string>;
                source: string;
                'detail-type': string;
              },
          )
      : [];
  return { n, stack, artifact, recorded, lines };
}

describe('a fleet on the local deployer', () => {
  it('creates the template, group and devices; scale-in deregisters through the hook; delete leaves nothing', async () => {
    const { n, stack, artifact, recorded } = scenario(false);
    await stack.deploy(artifact('3'));
    const fleetName = `fleet-asg-${n}`;
    const instances = stack.instancesOf(fleetName);
    expect(instances).toHaveLength(3);
    expect([...stack.devices.keys()].sort()).toEqual(instances.map((id) => `Fleet/${id}`).sort());

    const template = await stack.iot.send(
      new DescribeProvisioningTemplateCommand({ templateName: `fleet-template-${n}` }),
    );
    const hookArn = String(stack.resources.get('HookFunction')?.attributes.Arn);
    expect(template).toMatchObject({ enabled: true, preProvisioningHook: { targetArn: hookArn } });
    await stack.iot.send(new DescribeThingGroupCommand({ thingGroupName: `fleet-group-${n}` }));

    // The hook runs through the deployer's Lambda runtime, answering its result…
    const signal = new AbortController().signal;
    expect(await invoker!(hookArn, { parameters: { ThingName: 'fleet-1' } }, { signal })).toEqual({
      allowProvisioning: true,
    });
    expect(await invoker!(hookArn, { parameters: { ThingName: 'other' } }, { signal })).toEqual({
      allowProvisioning: false,
    });
    // …and is stopped when the local IoT stops waiting (AWS's 5 s).
    const started = Date.now();
    await expect(
      invoker!(
        hookArn,
        { parameters: { ThingName: 'fleet-2', Slow: 'yes' } },
        { signal: AbortSignal.timeout(300) },
      ),
    ).rejects.toThrow(/stopped/);
    expect(Date.now() - started).toBeLessThan(5000);

    expect(await stack.update(artifact('1'))).toBe('UPDATE_COMPLETE');
    const events = recorded();
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event).toMatchObject({
        source: 'aws.autoscaling',
        'detail-type': 'EC2 Instance-terminate Lifecycle Action',
        detail: {
          AutoScalingGroupName: fleetName,
          LifecycleHookName: 'deregister',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        },
      });
    }
    // The default termination policy took the two oldest (closest to their billing hour).
    expect(events.map((e) => e.detail.EC2InstanceId).sort()).toEqual(instances.slice(0, 2).sort());
    expect(stack.instancesOf(fleetName)).toEqual([instances[2]]);

    // The hook and the rule depend on the group, so they go first: the
    // group's own delete terminates its last instance without a hook, as on AWS.
    await stack.destroy();
    expect(recorded()).toHaveLength(2);
  });

  it("runs the group's own hooks for every instance when the stack is deleted", async () => {
    const { n, stack, artifact, recorded } = scenario(true);
    await stack.deploy(artifact('2'));
    const instances = stack.instancesOf(`fleet-asg-${n}`);
    await stack.destroy();
    expect(
      recorded()
        .map((e) => e.detail.EC2InstanceId)
        .sort(),
    ).toEqual([...instances].sort());
  });
});
