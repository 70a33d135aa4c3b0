import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  CreateProvisioningTemplateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteProvisioningTemplateCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DescribeProvisioningTemplateCommand,
  DescribeThingGroupCommand,
  ListProvisioningTemplatesCommand,
  ListThingGroupsForThingCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
  UpdateProvisioningTemplateCommand,
} from '@aws-sdk/client-iot';
import { describe, expect, it } from 'vitest';
import { failure, iamTestCloud, startCloudFixture } from '../test/helpers';

const ARN = 'arn:aws:iot:us-east-1:000000000000';
const ROLE = 'arn:aws:iam::000000000000:role/provisioning-role';
const HOOK = 'arn:aws:lambda:us-east-1:000000000000:function:fleet-hook';
const body = JSON.stringify({
  Parameters: { Name: { Type: 'String' } },
  Resources: { thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: { Ref: 'Name' } } } },
});

const { fixture, roleSession } = iamTestCloud();

describe('Provisioning templates', () => {
  it('are created, described, listed page by page, updated and deleted', async () => {
    const { iot } = fixture();
    const created = await iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'crud-1',
        templateBody: body,
        provisioningRoleArn: ROLE,
        description: 'first',
        preProvisioningHook: { targetArn: HOOK },
      }),
    );
    expect(created).toMatchObject({
      templateArn: `${ARN}:provisioningtemplate/crud-1`,
      templateName: 'crud-1',
      defaultVersionId: 1,
    });
    await iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'crud-2',
        templateBody: body,
        provisioningRoleArn: ROLE,
        enabled: true,
      }),
    );
    const described = await iot.send(
      new DescribeProvisioningTemplateCommand({ templateName: 'crud-1' }),
    );
    expect(described).toMatchObject({
      templateName: 'crud-1',
      description: 'first',
      templateBody: body,
      enabled: false,
      provisioningRoleArn: ROLE,
      preProvisioningHook: { targetArn: HOOK, payloadVersion: '2020-04-01' },
      type: 'FLEET_PROVISIONING',
      defaultVersionId: 1,
    });
    expect(described.creationDate).toBeInstanceOf(Date);

    const first = await iot.send(new ListProvisioningTemplatesCommand({ maxResults: 1 }));
    const second = await iot.send(
      new ListProvisioningTemplatesCommand({ maxResults: 1, nextToken: first.nextToken }),
    );
    expect(
      [...(first.templates ?? []), ...(second.templates ?? [])].map((t) => t.templateName),
    ).toEqual(['crud-1', 'crud-2']);

    await iot.send(
      new UpdateProvisioningTemplateCommand({
        templateName: 'crud-1',
        enabled: true,
        removePreProvisioningHook: true,
      }),
    );
    const updated = await iot.send(
      new DescribeProvisioningTemplateCommand({ templateName: 'crud-1' }),
    );
    expect(updated.enabled).toBe(true);
    expect(updated.preProvisioningHook).toBeUndefined();

    for (const templateName of ['crud-1', 'crud-2']) {
      await iot.send(new DeleteProvisioningTemplateCommand({ templateName }));
    }
    const gone = await failure(
      iot.send(new DescribeProvisioningTemplateCommand({ templateName: 'crud-1' })),
    );
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    const again = await failure(
      iot.send(new DeleteProvisioningTemplateCommand({ templateName: 'crud-1' })),
    );
    expect(again.name).toBe('ResourceNotFoundException');
  });

  it('are refused as AWS refuses them', async () => {
    const { iot } = fixture();
    const create = (
      input: Partial<ConstructorParameters<typeof CreateProvisioningTemplateCommand>[0]>,
    ) =>
      failure(
        iot.send(
          new CreateProvisioningTemplateCommand({
            templateName: 'refused',
            templateBody: body,
            provisioningRoleArn: ROLE,
            ...input,
          }),
        ),
      );
    const unsupported = JSON.stringify({
      DeviceConfiguration: { a: { 'Fn::GetAtt': ['thing', 'Arn'] } },
    });
    const conditional = JSON.stringify({ Conditions: { C: { 'Fn::Equals': ['a', 'a'] } } });
    for (const [input, message] of [
      [{ templateName: 'has space' }, 'templateName'],
      [{ templateName: 'x'.repeat(37) }, 'templateName'],
      [{ templateBody: 'not json' }, 'not valid JSON'],
      [{ templateBody: unsupported }, 'unsupported intrinsic function Fn::GetAtt'],
      [{ templateBody: conditional }, 'Unsupported template section Conditions'],
      [{ provisioningRoleArn: 'arn:aws:iam::000000000000:user/someone' }, 'provisioningRoleArn'],
      [
        { preProvisioningHook: { targetArn: 'arn:aws:sns:us-east-1:000000000000:topic' } },
        'ARN of a Lambda function',
      ],
      [
        { preProvisioningHook: { targetArn: HOOK, payloadVersion: '2019-01-01' } },
        'payloadVersion',
      ],
      [{ type: 'JITP', preProvisioningHook: { targetArn: HOOK } }, 'FLEET_PROVISIONING'],
    ] as const) {
      const refused = await create(input);
      expect(refused, message).toMatchObject({ name: 'InvalidRequestException', status: 400 });
      expect(refused.message).toContain(message);
    }
    await iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'dup',
        templateBody: body,
        provisioningRoleArn: ROLE,
      }),
    );
    expect(await create({ templateName: 'dup' })).toMatchObject({
      name: 'ResourceAlreadyExistsException',
      status: 409,
    });
    const both = await failure(
      iot.send(
        new UpdateProvisioningTemplateCommand({
          templateName: 'dup',
          preProvisioningHook: { targetArn: HOOK },
          removePreProvisioningHook: true,
        }),
      ),
    );
    expect(both.name).toBe('InvalidRequestException');
  });

  it('accept CloudFormation conditions only when the cloud is started with provisioningTemplateConditions', async () => {
    const lenient = await startCloudFixture({ provisioningTemplateConditions: true });
    try {
      const conditional = JSON.stringify({
        Parameters: { Env: { Type: 'String' } },
        Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
        Resources: {
          p: { Type: 'AWS::IoT::Policy', Condition: 'IsProd', Properties: { PolicyName: 'p' } },
        },
      });
      await lenient.iot.send(
        new CreateProvisioningTemplateCommand({
          templateName: 'conditional',
          templateBody: conditional,
          provisioningRoleArn: ROLE,
        }),
      );
    } finally {
      await lenient.stop();
    }
  });

  it('need iam:PassRole on the provisioning role for a role session', async () => {
    const template = `${ARN}:provisioningtemplate/passed`;
    const create = (iot: ReturnType<typeof fixture>['iot']) =>
      iot.send(
        new CreateProvisioningTemplateCommand({
          templateName: 'passed',
          templateBody: body,
          provisioningRoleArn: ROLE,
        }),
      );
    const without = await roleSession('template-maker', {
      Create: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:CreateProvisioningTemplate', Resource: template },
        ],
      },
    });
    const refused = await failure(create(without.iot));
    expect(refused).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(refused.message).toContain(
      `not authorized to perform: iam:PassRole on resource: ${ROLE}`,
    );
    const withPass = await roleSession('template-maker-2', {
      Create: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'iot:CreateProvisioningTemplate', Resource: template },
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: ROLE,
            Condition: { StringEquals: { 'iam:PassedToService': 'iot.amazonaws.com' } },
          },
        ],
      },
    });
    await create(withPass.iot);
  });
});

describe('Thing groups', () => {
  it('are created idempotently, described with their parents, and deleted once childless', async () => {
    const { iot } = fixture();
    const created = await iot.send(
      new CreateThingGroupCommand({
        thingGroupName: 'root',
        thingGroupProperties: { thingGroupDescription: 'top' },
      }),
    );
    expect(created).toMatchObject({
      thingGroupName: 'root',
      thingGroupArn: `${ARN}:thinggroup/root`,
    });
    const same = await iot.send(
      new CreateThingGroupCommand({
        thingGroupName: 'root',
        thingGroupProperties: { thingGroupDescription: 'top' },
      }),
    );
    expect(same.thingGroupId).toBe(created.thingGroupId);
    const conflict = await failure(
      iot.send(new CreateThingGroupCommand({ thingGroupName: 'root' })),
    );
    expect(conflict).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });
    const orphan = await failure(
      iot.send(new CreateThingGroupCommand({ thingGroupName: 'orphan', parentGroupName: 'nope' })),
    );
    expect(orphan.name).toBe('InvalidRequestException');

    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'mid', parentGroupName: 'root' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'leaf', parentGroupName: 'mid' }));
    const leaf = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'leaf' }));
    expect(leaf.thingGroupMetadata).toMatchObject({
      parentGroupName: 'mid',
      rootToParentThingGroups: [
        { groupName: 'root', groupArn: `${ARN}:thinggroup/root` },
        { groupName: 'mid', groupArn: `${ARN}:thinggroup/mid` },
      ],
    });
    const busy = await failure(iot.send(new DeleteThingGroupCommand({ thingGroupName: 'mid' })));
    expect(busy).toMatchObject({ name: 'InvalidRequestException' });
    expect(busy.message).toBe(
      'Cannot delete thing group : mid when there are still child groups attached to it.',
    );
    for (const thingGroupName of ['leaf', 'mid', 'root', 'root']) {
      await iot.send(new DeleteThingGroupCommand({ thingGroupName }));
    }
    const gone = await failure(iot.send(new DescribeThingGroupCommand({ thingGroupName: 'root' })));
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });

  it('hold things: one group per hierarchy, at most 10, listed both ways, left on delete', async () => {
    const { iot } = fixture();
    await iot.send(new CreateThingCommand({ thingName: 'member' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'site' }));
    await iot.send(
      new CreateThingGroupCommand({ thingGroupName: 'site-a', parentGroupName: 'site' }),
    );
    await iot.send(
      new AddThingToThingGroupCommand({ thingGroupName: 'site-a', thingName: 'member' }),
    );
    await iot.send(
      new AddThingToThingGroupCommand({
        thingGroupArn: `${ARN}:thinggroup/site-a`,
        thingArn: `${ARN}:thing/member`,
      }),
    );
    const sameHierarchy = await failure(
      iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'site', thingName: 'member' })),
    );
    expect(sameHierarchy.name).toBe('InvalidRequestException');
    expect(
      (await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'site' }))).things,
    ).toEqual([]);
    expect(
      (
        await iot.send(
          new ListThingsInThingGroupCommand({ thingGroupName: 'site', recursive: true }),
        )
      ).things,
    ).toEqual(['member']);

    for (let i = 0; i < 10; i++)
      await iot.send(new CreateThingGroupCommand({ thingGroupName: `tag-${i}` }));
    for (let i = 0; i < 9; i++) {
      await iot.send(
        new AddThingToThingGroupCommand({ thingGroupName: `tag-${i}`, thingName: 'member' }),
      );
    }
    const eleventh = await failure(
      iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'tag-9', thingName: 'member' })),
    );
    expect(eleventh.message).toContain('already in 10 thing groups');
    const listed = await iot.send(
      new ListThingGroupsForThingCommand({ thingName: 'member', maxResults: 250 }),
    );
    expect(listed.thingGroups).toHaveLength(10);
    expect(listed.thingGroups?.[0]).toEqual({
      groupName: 'site-a',
      groupArn: `${ARN}:thinggroup/site-a`,
    });

    await iot.send(
      new RemoveThingFromThingGroupCommand({ thingGroupName: 'site-a', thingName: 'member' }),
    );
    await iot.send(
      new RemoveThingFromThingGroupCommand({ thingGroupName: 'site-a', thingName: 'member' }),
    );
    expect(
      (await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'site-a' }))).things,
    ).toEqual([]);
    const unknown = await failure(
      iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'site', thingName: 'nobody' })),
    );
    expect(unknown).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    await iot.send(new DeleteThingCommand({ thingName: 'member' }));
    expect(
      (await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'tag-0' }))).things,
    ).toEqual([]);
  });

  it('take policies (AttachPolicy to the group ARN), but not a group that does not exist', async () => {
    const { iot } = fixture();
    const policyDocument = JSON.stringify({
      Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: '*' }],
    });
    await iot.send(new CreatePolicyCommand({ policyName: 'for-groups', policyDocument }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'with-policy' }));
    await iot.send(
      new AttachPolicyCommand({
        policyName: 'for-groups',
        target: `${ARN}:thinggroup/with-policy`,
      }),
    );
    const missing = await failure(
      iot.send(
        new AttachPolicyCommand({ policyName: 'for-groups', target: `${ARN}:thinggroup/nope` }),
      ),
    );
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    // Deleting the group takes its attachments with it, so the policy can go.
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'with-policy' }));
    await iot.send(new DeletePolicyCommand({ policyName: 'for-groups' }));
  });

  it('membership needs the action on both the group and the thing for a role session', async () => {
    const { iot } = fixture();
    await iot.send(new CreateThingCommand({ thingName: 'guarded' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'guarded-group' }));
    const groupOnly = await roleSession('grouper', {
      Add: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:AddThingToThingGroup',
            Resource: `${ARN}:thinggroup/guarded-group`,
          },
        ],
      },
    });
    const add = new AddThingToThingGroupCommand({
      thingGroupName: 'guarded-group',
      thingName: 'guarded',
    });
    const refused = await failure(groupOnly.iot.send(add));
    expect(refused.message).toContain(`on resource: ${ARN}:thing/guarded`);
    const both = await roleSession('grouper-2', {
      Add: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iot:AddThingToThingGroup',
            Resource: [`${ARN}:thinggroup/guarded-group`, `${ARN}:thing/guarded`],
          },
        ],
      },
    });
    await both.iot.send(add);
  });
});
