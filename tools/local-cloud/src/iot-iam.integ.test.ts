import {
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeThingCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevice, failure, iamTestCloud, type CloudFixture } from '../test/helpers';

const iam = iamTestCloud();
let fixture: CloudFixture;
beforeAll(() => {
  fixture = iam.fixture();
});

const ARN = 'arn:aws:iot:us-east-1:000000000000';

const roleSession = (roleName: string, statements: object[]) =>
  iam.roleSession(roleName, { P: { Version: '2012-10-17', Statement: statements } });

describe('IoT control plane authorization of role sessions', () => {
  it('lets a role allowed iot:UpdateCertificate on one cert update that one only; the refusal changes nothing', async () => {
    const mine = await createDevice(fixture.iot);
    const other = await createDevice(fixture.iot);
    const role = await roleSession('cert-updater', [
      {
        Effect: 'Allow',
        Action: 'iot:UpdateCertificate',
        Resource: `${ARN}:cert/${mine.certificateId}`,
      },
    ]);
    await role.iot.send(
      new UpdateCertificateCommand({ certificateId: mine.certificateId, newStatus: 'INACTIVE' }),
    );
    const refused = await failure(
      role.iot.send(
        new UpdateCertificateCommand({ certificateId: other.certificateId, newStatus: 'REVOKED' }),
      ),
    );
    expect(refused).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(refused.message).toBe(
      `User: ${role.credentials.assumedRoleArn} is not authorized to perform: iot:UpdateCertificate on resource: ${ARN}:cert/${other.certificateId} because no identity-based policy allows the iot:UpdateCertificate action`,
    );
    const describe_ = (id: string) =>
      fixture.iot.send(new DescribeCertificateCommand({ certificateId: id }));
    expect((await describe_(other.certificateId)).certificateDescription?.status).toBe('ACTIVE');
    expect((await describe_(mine.certificateId)).certificateDescription?.status).toBe('INACTIVE');
    // Describe is another action: not granted.
    expect(
      await failure(
        role.iot.send(new DescribeCertificateCommand({ certificateId: mine.certificateId })),
      ),
    ).toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('scopes CreateThing by thing ARN, over HTTP and HTTPS; a refused create leaves no thing', async () => {
    const role = await roleSession('thing-maker', [
      { Effect: 'Allow', Action: 'iot:CreateThing', Resource: `${ARN}:thing/sensor-*` },
    ]);
    await role.iot.send(new CreateThingCommand({ thingName: 'sensor-1' }));
    await role.iotHttps.send(new CreateThingCommand({ thingName: 'sensor-2' }));
    expect(
      await failure(role.iot.send(new CreateThingCommand({ thingName: 'camera-1' }))),
    ).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(
      await failure(fixture.iot.send(new DescribeThingCommand({ thingName: 'camera-1' }))),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('applies an explicit Deny over an Allow, and a policy replaced at run time on the next call', async () => {
    const role = await roleSession('thing-reader', [
      { Effect: 'Allow', Action: 'iot:DescribeThing', Resource: '*' },
      { Effect: 'Deny', Action: 'iot:DescribeThing', Resource: `${ARN}:thing/hidden-*` },
    ]);
    await fixture.iot.send(new CreateThingCommand({ thingName: 'hidden-1' }));
    await fixture.iot.send(new CreateThingCommand({ thingName: 'shown-1' }));
    await role.iot.send(new DescribeThingCommand({ thingName: 'shown-1' }));
    const refused = await failure(
      role.iot.send(new DescribeThingCommand({ thingName: 'hidden-1' })),
    );
    expect(refused.message).toContain('with an explicit deny in an identity-based policy');
    await fixture.cloud.iam.putRolePolicy('thing-reader', 'P', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'iot:DescribeThing', Resource: '*' }],
    });
    await role.iot.send(new DescribeThingCommand({ thingName: 'hidden-1' }));
  });

  it('refuses for a role session a thing-principal call whose principal is not a certificate ARN', async () => {
    const role = await roleSession('attacher', [
      { Effect: 'Allow', Action: 'iot:*', Resource: `${ARN}:cert/*` },
    ]);
    const { DetachThingPrincipalCommand } = await import('@aws-sdk/client-iot');
    expect(
      await failure(
        role.iot.send(
          new DetachThingPrincipalCommand({ thingName: 'shown-1', principal: 'not-an-arn' }),
        ),
      ),
    ).toMatchObject({ name: 'AccessDeniedException', status: 403 });
  });
});
