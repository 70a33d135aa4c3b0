import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  CreateProvisioningTemplateCommand,
  CreateThingGroupCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  ListAttachedPoliciesCommand,
  ListPrincipalThingsCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
} from '@aws-sdk/client-iot';
import { mqtt as crtMqtt, type iotidentity } from 'aws-iot-device-sdk-v2';
import { seedPolicy } from '@thingcert/test-support';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closed,
  connectMqtt,
  createDevice,
  crtConnection,
  failure,
  mqttOptions,
  startCloudFixture,
  type CloudFixture,
  type Device,
} from '../test/helpers';
import { claimPolicy, ClaimSession, makeDeviceKey, type Outcome } from '../test/fleet-helpers';
import type { PreProvisioningHookInput } from './index';

const ARN = 'arn:aws:iot:us-east-1:000000000000';
const ROLE = 'arn:aws:iam::000000000000:role/provisioning-role';
const HOOK = 'arn:aws:lambda:us-east-1:000000000000:function:fleet-hook';

/** The device policy the template attaches: the thing may use only its own topic. */
const devicePolicy = (f: CloudFixture) =>
  seedPolicy(f.cloud, 'dt/${iot:Connection.Thing.ThingName}');

/** Thing `sensor-<SerialNumber>` in `groups`, the certificate ACTIVE, `policy` attached. */
function templateBody(groups: string[] = ['fleet-group'], policy = 'fleet-device-policy'): string {
  return JSON.stringify({
    Parameters: {
      SerialNumber: { Type: 'String' },
      'AWS::IoT::Certificate::Id': { Type: 'String' },
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {
          ThingName: { 'Fn::Join': ['', ['sensor-', { Ref: 'SerialNumber' }]] },
          AttributePayload: { serial: { Ref: 'SerialNumber' } },
          ThingGroups: groups,
        },
      },
      certificate: {
        Type: 'AWS::IoT::Certificate',
        Properties: { CertificateId: { Ref: 'AWS::IoT::Certificate::Id' }, Status: 'ACTIVE' },
      },
      policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyName: policy } },
    },
    DeviceConfiguration: { topic: { 'Fn::Sub': 'dt/sensor-${SerialNumber}' } },
  });
}

let fixture: CloudFixture;
let hookCalls: PreProvisioningHookInput[] = [];
let hook: (input: PreProvisioningHookInput) => Promise<unknown> = () =>
  Promise.resolve({ allowProvisioning: true });

async function createTemplate(
  f: CloudFixture,
  templateName: string,
  body = templateBody(),
  withHook = false,
) {
  await f.iot.send(
    new CreateProvisioningTemplateCommand({
      templateName,
      templateBody: body,
      provisioningRoleArn: ROLE,
      enabled: true,
      ...(withHook
        ? { preProvisioningHook: { targetArn: HOOK, payloadVersion: '2020-04-01' } }
        : {}),
    }),
  );
}

/** Runs `use` with a connected claim session for `templateName`, closed afterwards. */
async function withClaim<T>(
  f: CloudFixture,
  templateName: string,
  clientId: string,
  use: (session: ClaimSession, claim: Device) => Promise<T>,
): Promise<T> {
  const claim = await createDevice(f.iot, { statements: claimPolicy(templateName) });
  const session = await ClaimSession.connect(f, claim, clientId);
  try {
    return await use(session, claim);
  } finally {
    await session.close();
  }
}

/** A certificate for a fresh device key, from CreateCertificateFromCsr. */
async function newCertificate(
  session: ClaimSession,
): Promise<iotidentity.model.CreateCertificateFromCsrResponse> {
  return accepted(await session.createCertificateFromCsr((await makeDeviceKey()).csrPem));
}

/** RegisterThing through `template` for the certificate `created`, with SerialNumber `serial`. */
function register(
  session: ClaimSession,
  template: string,
  created: { certificateOwnershipToken?: string },
  serial: string,
) {
  return session.registerThing(template, created.certificateOwnershipToken, {
    SerialNumber: serial,
  });
}

/** The reply's accepted payload; fails the test with the rejection otherwise. */
function accepted<T>(outcome: Outcome<T>): T {
  if (outcome.accepted === undefined)
    throw new Error(`rejected: ${JSON.stringify(outcome.rejected)}`);
  return outcome.accepted;
}

async function setup(f: CloudFixture): Promise<void> {
  await f.iot.send(
    new CreatePolicyCommand({
      policyName: 'fleet-device-policy',
      policyDocument: devicePolicy(f),
    }),
  );
  await f.iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet-group' }));
  await createTemplate(f, 'fleet');
}

beforeAll(async () => {
  fixture = await startCloudFixture({
    connectIntervalMs: 0,
    lambdaInvoker: (_arn, payload) => {
      hookCalls.push(payload as PreProvisioningHookInput);
      return hook(payload as PreProvisioningHookInput);
    },
  });
  await setup(fixture);
  await createTemplate(fixture, 'hooked', templateBody(), true);
});
afterAll(async () => {
  await fixture.stop();
});

describe('Fleet provisioning by claim, with aws-iot-device-sdk-v2 iotidentity', () => {
  it('registers a device from a CSR; the certificate is PENDING_ACTIVATION until then; the device then connects as itself', async () => {
    await withClaim(fixture, 'fleet', 'claim-1', async (session) => {
      const key = await makeDeviceKey();
      const created = accepted(await session.createCertificateFromCsr(key.csrPem));
      expect(created.certificateOwnershipToken).toMatch(/^[A-Za-z0-9+/=]{100,}$/);
      const certificateId = created.certificateId!;
      const pending = await fixture.iot.send(new DescribeCertificateCommand({ certificateId }));
      expect(pending.certificateDescription?.status).toBe('PENDING_ACTIVATION');
      const own = { certificatePem: created.certificatePem!, privateKey: key.privateKeyPem };
      await expect(
        connectMqtt(
          mqttOptions(fixture, { ...own, certificateId, certificateArn: '' }, 'sensor-1'),
        ),
      ).rejects.toThrow(/Not authorized/i);

      const registered = accepted(await register(session, 'fleet', created, '1'));
      expect(registered).toEqual({
        thingName: 'sensor-1',
        deviceConfiguration: { topic: 'dt/sensor-1' },
      });
      const active = await fixture.iot.send(new DescribeCertificateCommand({ certificateId }));
      expect(active.certificateDescription?.status).toBe('ACTIVE');
      const thing = await fixture.iot.send(new DescribeThingCommand({ thingName: 'sensor-1' }));
      expect(thing.attributes).toEqual({ serial: '1' });
      const groups = await fixture.iot.send(
        new ListThingGroupsForThingCommand({ thingName: 'sensor-1' }),
      );
      expect(groups.thingGroups).toEqual([
        { groupName: 'fleet-group', groupArn: `${ARN}:thinggroup/fleet-group` },
      ]);
      const members = await fixture.iot.send(
        new ListThingsInThingGroupCommand({ thingGroupName: 'fleet-group' }),
      );
      expect(members.things).toContain('sensor-1');

      const device = crtConnection(fixture, own, 'sensor-1');
      try {
        await device.connect();
        let resolveReceived: (text: string) => void = () => undefined;
        const received = new Promise<string>((resolve) => {
          resolveReceived = resolve;
        });
        // subscribe() resolves on SUBACK: publish after it.
        await device.subscribe('dt/sensor-1', crtMqtt.QoS.AtLeastOnce, (_topic, payload) =>
          resolveReceived(Buffer.from(payload).toString('utf8')),
        );
        await device.publish('dt/sensor-1', 'hello from sensor-1', crtMqtt.QoS.AtLeastOnce);
        expect(await received).toBe('hello from sensor-1');
      } finally {
        await device.disconnect();
      }
    });
  });

  it('CreateKeysAndCertificate over MQTT returns a key and a PENDING_ACTIVATION certificate', async () => {
    await withClaim(fixture, 'fleet', 'claim-keys', async (session) => {
      const created = accepted(await session.createKeysAndCertificate());
      expect(created.privateKey).toContain('PRIVATE KEY');
      const described = await fixture.iot.send(
        new DescribeCertificateCommand({ certificateId: created.certificateId }),
      );
      expect(described.certificateDescription?.status).toBe('PENDING_ACTIVATION');
    });
  });

  it('refuses the claim certificate every other topic, and publishing a reply topic', async () => {
    const claim = await createDevice(fixture.iot, { statements: claimPolicy('fleet') });
    const cases: Array<(client: Awaited<ReturnType<typeof connectMqtt>>) => void> = [
      (client) => client.subscribe('dt/#', { qos: 1 }),
      (client) => client.publish('dt/sensor-1', 'x', { qos: 1 }),
      (client) =>
        client.publish('$aws/certificates/create-from-csr/json/accepted', '{}', { qos: 1 }),
      (client) =>
        client.subscribe('$aws/provisioning-templates/hooked/provision/json/accepted', { qos: 1 }),
    ];
    for (const [i, act] of cases.entries()) {
      const client = await connectMqtt(mqttOptions(fixture, claim, `claim-refused-${i}`));
      const gone = closed(client);
      act(client);
      await gone;
      client.end(true);
    }
  });

  it('answers only the connection that asked, and only json', async () => {
    const claim = await createDevice(fixture.iot, { statements: claimPolicy('fleet') });
    const session = await ClaimSession.connect(fixture, claim, 'claim-asker');
    const bystander = await connectMqtt(mqttOptions(fixture, claim, 'claim-bystander'));
    try {
      const overheard: string[] = [];
      bystander.on('message', (topic) => overheard.push(topic));
      await bystander.subscribeAsync('$aws/certificates/create-from-csr/+', { qos: 1 });
      await bystander.subscribeAsync('$aws/certificates/create-from-csr/json/+', { qos: 1 });
      await bystander.subscribeAsync('$aws/certificates/create/cbor/+', { qos: 1 });
      await newCertificate(session);
      await bystander.publishAsync('$aws/certificates/create/cbor', Buffer.from([0xa0]), {
        qos: 1,
      });
      await delay(300);
      expect(overheard).toEqual([]);
    } finally {
      bystander.end(true);
      await session.close();
    }
  });

  it('refuses a used ownership token and an empty one', async () => {
    await withClaim(fixture, 'fleet', 'claim-token', async (session) => {
      const created = await newCertificate(session);
      accepted(await register(session, 'fleet', created, '2'));
      const reused = await register(session, 'fleet', created, '3');
      expect(reused.rejected).toMatchObject({
        statusCode: 400,
        errorCode: 'InvalidCertificateOwnershipToken',
      });
      const empty = await session.registerThing('fleet', '', { SerialNumber: '3' });
      expect(empty.rejected).toEqual({
        statusCode: 400,
        errorCode: 'InvalidCertificateOwnershipToken',
        errorMessage: 'Certificate ownership token cannot be empty.',
      });
      await expect(
        fixture.iot.send(new DescribeThingCommand({ thingName: 'sensor-3' })),
      ).rejects.toThrow();
    });
  });

  it('a second registration of the same thing keeps the thing as it is and attaches the new certificate', async () => {
    await withClaim(fixture, 'fleet', 'claim-again', async (session) => {
      const first = await newCertificate(session);
      accepted(await register(session, 'fleet', first, '4'));
      const before = await fixture.iot.send(new DescribeThingCommand({ thingName: 'sensor-4' }));
      const second = await newCertificate(session);
      const again = accepted(await register(session, 'fleet', second, '4'));
      expect(again.thingName).toBe('sensor-4');
      const after = await fixture.iot.send(new DescribeThingCommand({ thingName: 'sensor-4' }));
      expect(after).toMatchObject({
        thingId: before.thingId,
        version: before.version,
        attributes: { serial: '4' },
      });
      const principals = await fixture.iot.send(
        new ListThingPrincipalsCommand({ thingName: 'sensor-4' }),
      );
      expect(principals.principals?.sort()).toEqual(
        [`${ARN}:cert/${first.certificateId!}`, `${ARN}:cert/${second.certificateId!}`].sort(),
      );
    });
  });

  it('a failed registration leaves no thing and no attachment; the certificate stays pending', async () => {
    await createTemplate(fixture, 'broken', templateBody(['fleet-group', 'missing-group']));
    await withClaim(fixture, 'broken', 'claim-broken', async (session) => {
      const created = await newCertificate(session);
      const refused = await register(session, 'broken', created, '5');
      expect(refused.rejected).toMatchObject({
        statusCode: 400,
        errorCode: 'ResourceRegistrationFailureException',
        errorMessage: expect.stringContaining('missing-group') as unknown,
      });
      expect(
        (await failure(fixture.iot.send(new DescribeThingCommand({ thingName: 'sensor-5' })))).name,
      ).toBe('ResourceNotFoundException');
      const principal = `${ARN}:cert/${created.certificateId!}`;
      expect(
        (await fixture.iot.send(new ListPrincipalThingsCommand({ principal }))).things,
      ).toEqual([]);
      expect(
        (await fixture.iot.send(new ListAttachedPoliciesCommand({ target: principal }))).policies,
      ).toEqual([]);
      const described = await fixture.iot.send(
        new DescribeCertificateCommand({ certificateId: created.certificateId }),
      );
      expect(described.certificateDescription?.status).toBe('PENDING_ACTIVATION');
    });
  });

  it('applies the policies of the thing group to the thing', async () => {
    await fixture.iot.send(new CreateThingGroupCommand({ thingGroupName: 'policy-group' }));
    await fixture.iot.send(
      new CreatePolicyCommand({
        policyName: 'group-policy',
        policyDocument: devicePolicy(fixture),
      }),
    );
    await fixture.iot.send(
      new AttachPolicyCommand({
        policyName: 'group-policy',
        target: `${ARN}:thinggroup/policy-group`,
      }),
    );
    await fixture.iot.send(
      new CreatePolicyCommand({
        policyName: 'nothing',
        policyDocument: JSON.stringify({
          Statement: [{ Effect: 'Deny', Action: 'iot:Publish', Resource: `${ARN}:topic/never` }],
        }),
      }),
    );
    await createTemplate(fixture, 'grouped', templateBody(['policy-group'], 'nothing'));
    await withClaim(fixture, 'grouped', 'claim-grouped', async (session) => {
      const key = await makeDeviceKey();
      const created = accepted(await session.createCertificateFromCsr(key.csrPem));
      accepted(await register(session, 'grouped', created, '6'));
      const device = {
        certificatePem: created.certificatePem!,
        privateKey: key.privateKeyPem,
        certificateId: '',
        certificateArn: '',
      };
      const client = await connectMqtt(mqttOptions(fixture, device, 'sensor-6'));
      await client.publishAsync('dt/sensor-6', 'allowed by the group', { qos: 1 });
      await client.endAsync();
    });
  });
});

describe('Provisioning role', () => {
  it("needs the role's permissions when the role is registered in the local IAM", async () => {
    const role = 'arn:aws:iam::000000000000:role/scoped-provisioning';
    await fixture.iot.send(
      new CreateProvisioningTemplateCommand({
        templateName: 'scoped',
        templateBody: templateBody(),
        provisioningRoleArn: role,
        enabled: true,
      }),
    );
    const writes = [
      'iot:CreateThing',
      'iot:AddThingToThingGroup',
      'iot:AttachThingPrincipal',
      'iot:UpdateCertificate',
    ];
    const allow = (actions: string[]) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }],
    });
    await fixture.cloud.iam.putRole({
      roleName: 'scoped-provisioning',
      policies: { Provision: allow(writes) },
    });
    await withClaim(fixture, 'scoped', 'claim-scoped', async (session) => {
      const created = await newCertificate(session);
      const refused = await register(session, 'scoped', created, '11');
      expect(refused.rejected).toMatchObject({ statusCode: 403, errorCode: 'AccessDenied' });
      expect(refused.rejected?.errorMessage).toContain(
        `${role} is not authorized to perform: iot:AttachPolicy`,
      );
      await expect(
        fixture.iot.send(new DescribeThingCommand({ thingName: 'sensor-11' })),
      ).rejects.toThrow();
      await fixture.cloud.iam.putRolePolicy(
        'scoped-provisioning',
        'Provision',
        allow([...writes, 'iot:AttachPolicy']),
      );
      expect(accepted(await register(session, 'scoped', created, '11')).thingName).toBe(
        'sensor-11',
      );
    });
  });
});

describe('Pre-provisioning hook', () => {
  function registerHooked(clientId: string, serial: string) {
    return withClaim(fixture, 'hooked', clientId, async (session, claim) => {
      const created = await newCertificate(session);
      const parameters = { SerialNumber: serial };
      const outcome = await session.registerThing(
        'hooked',
        created.certificateOwnershipToken,
        parameters,
      );
      return { claim, created, outcome };
    });
  }

  it('is invoked with the documented payload; its parameterOverrides apply', async () => {
    hookCalls = [];
    hook = () =>
      Promise.resolve({ allowProvisioning: true, parameterOverrides: { SerialNumber: '70' } });
    const { claim, created, outcome } = await registerHooked('claim-hook-allow', '7');
    expect(accepted(outcome).thingName).toBe('sensor-70');
    expect(hookCalls).toEqual([
      {
        claimCertificateId: claim.certificateId,
        certificateId: created.certificateId,
        certificatePem: created.certificatePem,
        templateArn: `${ARN}:provisioningtemplate/hooked`,
        clientId: 'claim-hook-allow',
        parameters: { SerialNumber: '7' },
      },
    ]);
  });

  it('a deny, an exception or a timeout (5 s) refuse the device with AccessDenied and leave nothing', async () => {
    const cases: Array<[string, typeof hook, string]> = [
      ['deny', () => Promise.resolve({ allowProvisioning: false }), 'denied it'],
      ['throw', () => Promise.reject(new Error('hook crashed')), 'failed'],
      ['timeout', () => new Promise(() => undefined), 'failed'],
    ];
    for (const [name, behaviour, why] of cases) {
      hook = behaviour;
      const started = Date.now();
      const { created, outcome } = await registerHooked(`claim-hook-${name}`, `8${name}`);
      expect(outcome.rejected).toEqual({
        statusCode: 403,
        errorCode: 'AccessDenied',
        errorMessage: `Provisioning was denied: the pre-provisioning hook ${why}`,
      });
      if (name === 'timeout') expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
      const described = await fixture.iot.send(
        new DescribeCertificateCommand({ certificateId: created.certificateId }),
      );
      expect(described.certificateDescription?.status).toBe('PENDING_ACTIVATION');
      await expect(
        fixture.iot.send(new DescribeThingCommand({ thingName: `sensor-8${name}` })),
      ).rejects.toThrow();
    }
  }, 30_000);
});

describe('Ownership token expiry and throttling', () => {
  let now = Date.now();
  let timed: CloudFixture;
  beforeAll(async () => {
    timed = await startCloudFixture({
      connectIntervalMs: 0,
      clock: () => now,
      throttle: { 'fleet:RegisterThing': 1 },
    });
    await setup(timed);
  });
  afterAll(async () => {
    await timed.stop();
  });

  it('refuses a token after one hour and then deletes its pending certificate', async () => {
    await withClaim(timed, 'fleet', 'claim-expiry', async (session) => {
      const created = await newCertificate(session);
      now += 60 * 60 * 1000 - 1;
      expect(await timed.cloud.fleetProvisioning.expireOwnershipTokens()).toEqual([]);
      now += 1;
      expect(await timed.cloud.fleetProvisioning.expireOwnershipTokens()).toEqual([
        created.certificateId,
      ]);
      const late = await register(session, 'fleet', created, '9');
      expect(late.rejected).toMatchObject({
        statusCode: 400,
        errorCode: 'InvalidCertificateOwnershipToken',
      });
      const gone = await failure(
        timed.iot.send(new DescribeCertificateCommand({ certificateId: created.certificateId })),
      );
      expect(gone.name).toBe('ResourceNotFoundException');
    });
  });

  it('throttles RegisterThing with ThrottlingException; a retry within the hour succeeds', async () => {
    await withClaim(timed, 'fleet', 'claim-throttled', async (session) => {
      const created = await newCertificate(session);
      await delay(1100);
      await session.registerThing('fleet', 'spends-the-only-token-of-the-bucket', {});
      const throttled = await register(session, 'fleet', created, '10');
      expect(throttled.rejected).toEqual({
        statusCode: 429,
        errorCode: 'ThrottlingException',
        errorMessage: 'Rate exceeded',
      });
      await delay(1100);
      const retried = await register(session, 'fleet', created, '10');
      expect(accepted(retried).thingName).toBe('sensor-10');
    });
  });
});
