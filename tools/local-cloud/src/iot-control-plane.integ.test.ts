import 'reflect-metadata';
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeletePolicyCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  GetPolicyCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListCertificatesCommand,
  ListPrincipalThingsCommand,
  ListTargetsForPolicyCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import * as x509 from '@peculiar/x509';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud } from './local-cloud';
import {
  allowAll,
  createDevice,
  failure,
  startCloudFixture,
  type CloudFixture,
} from '../test/helpers';

let fixture: CloudFixture;
beforeAll(async () => {
  fixture = await startCloudFixture();
});
afterAll(async () => {
  await fixture.stop();
});

const policyDocument = JSON.stringify({ Version: '2012-10-17', Statement: allowAll });

async function makeCsr(
  algorithm: 'RSA-2048' | 'RSA-1024' | 'P-256' | 'P-384' | 'P-521',
): Promise<string> {
  const params =
    algorithm === 'RSA-2048' || algorithm === 'RSA-1024'
      ? {
          name: 'RSASSA-PKCS1-v1_5',
          hash: 'SHA-256',
          publicExponent: new Uint8Array([1, 0, 1]),
          modulusLength: algorithm === 'RSA-2048' ? 2048 : 1024,
        }
      : {
          name: 'ECDSA',
          namedCurve: algorithm,
          hash: algorithm === 'P-256' ? 'SHA-256' : 'SHA-384',
        };
  const keys = await webcrypto.subtle.generateKey(params, false, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'CN=device-from-csr',
    keys,
    signingAlgorithm: params,
  });
  return csr.toString('pem');
}

describe('Certificates', () => {
  // Over 150 lines as a list of independent cases on one cloud, not one procedure.
  it('CreateKeysAndCertificate returns an RSA-2048 X.509 certificate whose id is the SHA-256 of its DER', async () => {
    const created = await fixture.iot.send(
      new CreateKeysAndCertificateCommand({ setAsActive: true }),
    );
    const certificate = new X509Certificate(created.certificatePem!);
    expect(created.certificateId).toBe(createHash('sha256').update(certificate.raw).digest('hex'));
    expect(created.certificateArn).toBe(
      `arn:aws:iot:us-east-1:000000000000:cert/${created.certificateId}`,
    );
    expect(certificate.subject).toBe('CN=AWS IoT Certificate');
    expect(new Date(certificate.validTo).getUTCFullYear()).toBe(2049);
    expect(certificate.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(certificate.checkIssued(new X509Certificate(fixture.ca))).toBe(true);
    expect(created.keyPair?.PrivateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(created.keyPair?.PublicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const described = await fixture.iot.send(
      new DescribeCertificateCommand({ certificateId: created.certificateId }),
    );
    expect(described.certificateDescription).toMatchObject({
      status: 'ACTIVE',
      certificatePem: created.certificatePem,
      certificateArn: created.certificateArn,
    });
    expect(described.certificateDescription?.creationDate).toBeInstanceOf(Date);
  });

  it('CreateKeysAndCertificate without setAsActive makes an INACTIVE certificate', async () => {
    const created = await fixture.iot.send(new CreateKeysAndCertificateCommand({}));
    const described = await fixture.iot.send(
      new DescribeCertificateCommand({ certificateId: created.certificateId }),
    );
    expect(described.certificateDescription?.status).toBe('INACTIVE');
  });

  it.each(['RSA-2048', 'P-256', 'P-384', 'P-521'] as const)(
    'CreateCertificateFromCsr signs a %s CSR with its own key',
    async (algorithm) => {
      const csr = await makeCsr(algorithm);
      const created = await fixture.iot.send(
        new CreateCertificateFromCsrCommand({ certificateSigningRequest: csr, setAsActive: true }),
      );
      const certificate = new X509Certificate(created.certificatePem!);
      const csrKey = new x509.Pkcs10CertificateRequest(csr).publicKey.rawData;
      expect(Buffer.from(certificate.publicKey.export({ type: 'spki', format: 'der' }))).toEqual(
        Buffer.from(csrKey),
      );
      expect(certificate.subject).toBe('CN=device-from-csr');
      expect(created.certificateId).toBe(
        createHash('sha256').update(certificate.raw).digest('hex'),
      );
    },
  );

  it('CreateCertificateFromCsr refuses weak keys, tampered signatures and garbage', async () => {
    const weak = await failure(
      fixture.iot.send(
        new CreateCertificateFromCsrCommand({
          certificateSigningRequest: await makeCsr('RSA-1024'),
        }),
      ),
    );
    expect(weak).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(weak.message).toMatch(/1024/);
    const good = await makeCsr('P-256');
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(good).rawData);
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0xff; // corrupt the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----`;
    expect(
      await failure(
        fixture.iot.send(
          new CreateCertificateFromCsrCommand({ certificateSigningRequest: tampered }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(
      await failure(
        fixture.iot.send(
          new CreateCertificateFromCsrCommand({ certificateSigningRequest: 'not a csr' }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequestException', status: 400 });
  });

  it('ListCertificates pages with a marker', async () => {
    await Promise.all(
      [1, 2, 3].map(() => fixture.iot.send(new CreateKeysAndCertificateCommand({}))),
    );
    const ids = new Set<string>();
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await fixture.iot.send(new ListCertificatesCommand({ pageSize: 2, marker }));
      for (const c of page.certificates ?? []) ids.add(c.certificateId!);
      marker = page.nextMarker;
      pages++;
    } while (marker !== undefined);
    expect(ids.size).toBeGreaterThanOrEqual(3);
    expect(pages).toBe(Math.ceil(ids.size / 2));
  });

  it('UpdateCertificate moves between ACTIVE/INACTIVE/REVOKED, refuses PENDING_* and is idempotent', async () => {
    const { certificateId } = await fixture.iot.send(
      new CreateKeysAndCertificateCommand({ setAsActive: true }),
    );
    await fixture.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    await fixture.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' }));
    const described = await fixture.iot.send(new DescribeCertificateCommand({ certificateId }));
    expect(described.certificateDescription?.status).toBe('INACTIVE');
    for (const newStatus of ['PENDING_TRANSFER', 'PENDING_ACTIVATION'] as const) {
      expect(
        await failure(fixture.iot.send(new UpdateCertificateCommand({ certificateId, newStatus }))),
      ).toMatchObject({
        name: 'InvalidRequestException',
        status: 400,
      });
    }
    await fixture.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'REVOKED' }));
    expect(
      await failure(
        fixture.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'ACTIVE' })),
      ),
    ).toMatchObject({ name: 'CertificateStateException', status: 406 });
  });

  it('DeleteCertificate follows AWS rules: ACTIVE 406, thing 409 even forced, policy 409 unless forced, unknown 404', async () => {
    const device = await createDevice(fixture.iot, {
      statements: allowAll,
      thingName: 'delete-rules',
    });
    const id = device.certificateId;
    expect(
      await failure(fixture.iot.send(new DeleteCertificateCommand({ certificateId: id }))),
    ).toMatchObject({
      name: 'CertificateStateException',
      status: 406,
    });
    await fixture.iot.send(
      new UpdateCertificateCommand({ certificateId: id, newStatus: 'INACTIVE' }),
    );
    const withThing = await failure(
      fixture.iot.send(new DeleteCertificateCommand({ certificateId: id, forceDelete: true })),
    );
    expect(withThing).toMatchObject({ name: 'DeleteConflictException', status: 409 });
    expect(withThing.message).toContain('Things must be detached');
    await fixture.iot.send(
      new DetachThingPrincipalCommand({
        thingName: 'delete-rules',
        principal: device.certificateArn,
      }),
    );
    const withPolicy = await failure(
      fixture.iot.send(new DeleteCertificateCommand({ certificateId: id })),
    );
    expect(withPolicy).toMatchObject({ name: 'DeleteConflictException', status: 409 });
    expect(withPolicy.message).toContain('policies must be detached');
    await fixture.iot.send(new DeleteCertificateCommand({ certificateId: id, forceDelete: true }));
    expect(
      await failure(fixture.iot.send(new DescribeCertificateCommand({ certificateId: id }))),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(
      await failure(fixture.iot.send(new DeleteCertificateCommand({ certificateId: id }))),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(
      await failure(fixture.iot.send(new DescribeCertificateCommand({ certificateId: 'not-hex' }))),
    ).toMatchObject({ name: 'InvalidRequestException', status: 400 });
  });

  it('DescribeEndpoint answers localhost on every call and refuses unknown types', async () => {
    const a = await fixture.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    const b = await fixture.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
    expect(a.endpointAddress).toBe('localhost');
    expect(b.endpointAddress).toBe(a.endpointAddress);
    expect(
      await failure(fixture.iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Bogus' }))),
    ).toMatchObject({
      name: 'InvalidRequestException',
    });
  });
});

describe('Things', () => {
  it('CreateThing is idempotent for identical input, conflicts otherwise; Describe/List/Delete work', async () => {
    const first = await fixture.iot.send(
      new CreateThingCommand({
        thingName: 'thing-a',
        attributePayload: { attributes: { model: 'x' } },
      }),
    );
    expect(first.thingArn).toBe('arn:aws:iot:us-east-1:000000000000:thing/thing-a');
    const again = await fixture.iot.send(
      new CreateThingCommand({
        thingName: 'thing-a',
        attributePayload: { attributes: { model: 'x' } },
      }),
    );
    expect(again.thingId).toBe(first.thingId);
    expect(
      await failure(
        fixture.iot.send(
          new CreateThingCommand({
            thingName: 'thing-a',
            attributePayload: { attributes: { model: 'y' } },
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });
    const described = await fixture.iot.send(new DescribeThingCommand({ thingName: 'thing-a' }));
    expect(described).toMatchObject({
      thingName: 'thing-a',
      attributes: { model: 'x' },
      version: 1,
    });
    const listed = await fixture.iot.send(
      new ListThingsCommand({ attributeName: 'model', attributeValue: 'x' }),
    );
    expect(listed.things?.map((t) => t.thingName)).toEqual(['thing-a']);
    await fixture.iot.send(new DeleteThingCommand({ thingName: 'thing-a' }));
    expect(
      await failure(fixture.iot.send(new DescribeThingCommand({ thingName: 'thing-a' }))),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(
      await failure(fixture.iot.send(new CreateThingCommand({ thingName: 'bad name!' }))),
    ).toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it('ListThings pages with nextToken', async () => {
    await Promise.all(
      ['p-1', 'p-2', 'p-3'].map((thingName) =>
        fixture.iot.send(
          new CreateThingCommand({
            thingName,
            thingTypeName: undefined,
            attributePayload: { attributes: { page: 'yes' } },
          }),
        ),
      ),
    );
    const first = await fixture.iot.send(
      new ListThingsCommand({ maxResults: 2, attributeName: 'page', attributeValue: 'yes' }),
    );
    const second = await fixture.iot.send(
      new ListThingsCommand({
        maxResults: 2,
        attributeName: 'page',
        attributeValue: 'yes',
        nextToken: first.nextToken,
      }),
    );
    expect([...first.things!, ...second.things!].map((t) => t.thingName)).toEqual([
      'p-1',
      'p-2',
      'p-3',
    ]);
    expect(second.nextToken).toBeUndefined();
  });

  it('attaches principals; DeleteThing with principals attached is an InvalidRequestException', async () => {
    const device = await createDevice(fixture.iot, { thingName: 'with-principal' });
    const principals = await fixture.iot.send(
      new ListThingPrincipalsCommand({ thingName: 'with-principal' }),
    );
    expect(principals.principals).toEqual([device.certificateArn]);
    const things = await fixture.iot.send(
      new ListPrincipalThingsCommand({ principal: device.certificateArn }),
    );
    expect(things.things).toEqual(['with-principal']);
    expect(
      await failure(fixture.iot.send(new DeleteThingCommand({ thingName: 'with-principal' }))),
    ).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
    });
    expect(
      await failure(
        fixture.iot.send(
          new AttachThingPrincipalCommand({
            thingName: 'with-principal',
            principal: `arn:aws:iot:us-east-1:000000000000:cert/${'0'.repeat(64)}`,
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });
});

describe('Policies', () => {
  it('CreatePolicy, GetPolicy, duplicates and malformed documents', async () => {
    const created = await fixture.iot.send(
      new CreatePolicyCommand({ policyName: 'pol-a', policyDocument }),
    );
    expect(created).toMatchObject({
      policyArn: 'arn:aws:iot:us-east-1:000000000000:policy/pol-a',
      policyVersionId: '1',
    });
    const got = await fixture.iot.send(new GetPolicyCommand({ policyName: 'pol-a' }));
    expect(got).toMatchObject({ policyName: 'pol-a', policyDocument, defaultVersionId: '1' });
    expect(
      await failure(
        fixture.iot.send(new CreatePolicyCommand({ policyName: 'pol-a', policyDocument })),
      ),
    ).toMatchObject({
      name: 'ResourceAlreadyExistsException',
      status: 409,
    });
    expect(
      await failure(
        fixture.iot.send(
          new CreatePolicyCommand({ policyName: 'pol-bad', policyDocument: '{not json' }),
        ),
      ),
    ).toMatchObject({ name: 'MalformedPolicyException', status: 400 });
    expect(
      await failure(fixture.iot.send(new GetPolicyCommand({ policyName: 'nope' }))),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
  });

  it('AttachPolicy / ListAttachedPolicies (ARN in the path) / ListTargetsForPolicy / DetachPolicy / DeletePolicy', async () => {
    const device = await createDevice(fixture.iot);
    await fixture.iot.send(new CreatePolicyCommand({ policyName: 'pol-b', policyDocument }));
    await fixture.iot.send(
      new AttachPolicyCommand({ policyName: 'pol-b', target: device.certificateArn }),
    );
    const attached = await fixture.iot.send(
      new ListAttachedPoliciesCommand({ target: device.certificateArn }),
    );
    expect(attached.policies).toEqual([
      { policyName: 'pol-b', policyArn: 'arn:aws:iot:us-east-1:000000000000:policy/pol-b' },
    ]);
    const targets = await fixture.iot.send(
      new ListTargetsForPolicyCommand({ policyName: 'pol-b' }),
    );
    expect(targets.targets).toEqual([device.certificateArn]);
    const conflict = await failure(
      fixture.iot.send(new DeletePolicyCommand({ policyName: 'pol-b' })),
    );
    expect(conflict).toMatchObject({ name: 'DeleteConflictException', status: 409 });
    await fixture.iot.send(
      new DetachPolicyCommand({ policyName: 'pol-b', target: device.certificateArn }),
    );
    expect(
      (await fixture.iot.send(new ListAttachedPoliciesCommand({ target: device.certificateArn })))
        .policies,
    ).toEqual([]);
    await fixture.iot.send(new DeletePolicyCommand({ policyName: 'pol-b' }));
    expect(
      await failure(fixture.iot.send(new DeletePolicyCommand({ policyName: 'pol-b' }))),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('Options', () => {
  it('throttles an operation with a token bucket (ThrottlingException, 400)', async () => {
    const throttled = await startCloudFixture({ throttle: { CreateThing: 2 } });
    try {
      const results = await Promise.allSettled(
        [1, 2, 3, 4, 5].map((i) =>
          throttled.iot.send(new CreateThingCommand({ thingName: `t-${i}` })),
        ),
      );
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(rejected).toHaveLength(3);
      expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
      // Other operations are not throttled.
      await throttled.iot.send(new ListThingsCommand({}));
      await throttled.iot.send(new ListThingsCommand({}));
      await throttled.iot.send(new ListThingsCommand({}));
    } finally {
      await throttled.stop();
    }
  });

  it('applies DetachThingPrincipal after detachDelayMs', async () => {
    // Long enough that the two round trips before the check cannot outlast it
    // on a loaded CI machine; settle() then waits for it instead of a sleep.
    const delayed = await startCloudFixture({ detachDelayMs: 1500 });
    try {
      const device = await createDevice(delayed.iot, { thingName: 'slow-detach' });
      await delayed.iot.send(
        new DetachThingPrincipalCommand({
          thingName: 'slow-detach',
          principal: device.certificateArn,
        }),
      );
      const during = await delayed.iot.send(
        new ListThingPrincipalsCommand({ thingName: 'slow-detach' }),
      );
      expect(during.principals).toEqual([device.certificateArn]);
      await delayed.cloud.settle();
      const after = await delayed.iot.send(
        new ListThingPrincipalsCommand({ thingName: 'slow-detach' }),
      );
      expect(after.principals).toEqual([]);
    } finally {
      await delayed.stop();
    }
  });

  it('keeps registry, CA and S3 objects across restarts with stateDir (key files 0600 in 0700 dirs)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'local-cloud-state-'));
    try {
      const first = await startCloudFixture({ stateDir });
      let device;
      try {
        device = await createDevice(first.iot, { statements: allowAll, thingName: 'persisted' });
      } finally {
        await first.stop();
      }
      const second = await startCloudFixture({ stateDir });
      try {
        expect(second.ca).toBe(first.ca);
        const described = await second.iot.send(
          new DescribeCertificateCommand({ certificateId: device.certificateId }),
        );
        expect(described.certificateDescription?.status).toBe('ACTIVE');
        const principals = await second.iot.send(
          new ListThingPrincipalsCommand({ thingName: 'persisted' }),
        );
        expect(principals.principals).toEqual([device.certificateArn]);
        const policies = await second.iot.send(
          new ListAttachedPoliciesCommand({ target: device.certificateArn }),
        );
        expect(policies.policies).toHaveLength(1);
      } finally {
        await second.stop();
      }
      expect((await stat(join(stateDir, 'ca', 'ca-key.pem'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(stateDir, 'ca'))).mode & 0o777).toBe(0o700);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('removes its temp dir (the CA key) on stop(), and at process exit if stop() never came', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'local-cloud-tmp-'));
    const savedTmpdir = process.env.TMPDIR;
    const restoreTmpdir = () => {
      if (savedTmpdir === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmpdir;
    };
    const exitHooksBefore = new Set(process.listeners('exit'));
    try {
      process.env.TMPDIR = tmp;
      const cloud = await startLocalCloud();
      restoreTmpdir();
      const [dir] = await readdir(tmp);
      expect(dir).toMatch(/^thingcert-local-cloud-/);
      expect((await stat(join(tmp, dir!, 'ca', 'ca-key.pem'))).isFile()).toBe(true);
      const exitHooks = process.listeners('exit').filter((hook) => !exitHooksBefore.has(hook));
      expect(exitHooks).toHaveLength(1);
      // What a process.exit() without stop() runs:
      exitHooks[0]!.call(process, 0);
      expect(await readdir(tmp)).toEqual([]);
      await cloud.stop();
      expect(process.listeners('exit').filter((hook) => !exitHooksBefore.has(hook))).toEqual([]);
    } finally {
      restoreTmpdir();
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('refuses unsigned requests with MissingAuthenticationTokenException (403)', async () => {
    const unsigned = new IoTClient({
      endpoint: fixture.cloud.iotEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      maxAttempts: 1,
    });
    // The deserialize step runs after signing: strip the signature the SDK just added.
    unsigned.middlewareStack.add(
      (next) => (args) => {
        delete (args.request as { headers: Record<string, string> }).headers['authorization'];
        return next(args);
      },
      { step: 'deserialize', name: 'stripAuthorization' },
    );
    try {
      expect(await failure(unsigned.send(new ListThingsCommand({})))).toMatchObject({
        name: 'MissingAuthenticationTokenException',
        status: 403,
      });
    } finally {
      unsigned.destroy();
    }
  });
});
