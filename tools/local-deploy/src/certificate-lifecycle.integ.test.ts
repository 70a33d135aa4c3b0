import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { InjectedFault } from '@thingcert/local-cloud';
import { findSecretLeaks } from '@thingcert/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StackArtifact } from './cloud-assembly';
import type { DuplicateDelivery } from './custom-resource-call';
import { isResourceStepError } from './errors';
import { sendCraftedDelete } from '../test/crafted-delete';
import { LifecycleRun, synthesizeInto, withLateFailure } from '../test/lifecycle-harness';

// The certificate lifecycle end to end: the synthesized infra app, the
// bundled provisioner Lambda, the bundled device runner running forever, the
// local cloud, with IAM enforced (each process with its role's credentials,
// over HTTPS). Every sequence ends with the same audit (`auditStack`): what
// CloudFormation holds is exactly what IoT and S3 hold, and each device is
// online with the certificate CloudFormation holds, in the process it first
// booted in. The stack delete at the end must leave nothing.

const [first, second] = ['thingcert-device-1', 'thingcert-device-2'];
const fleet = [first, second];

/** The synthesized templates the sequences move between. */
interface Variants {
  readonly fleet: StackArtifact;
  readonly rotated: StackArtifact;
  readonly rotatedAgain: StackArtifact;
  readonly firstOnly: StackArtifact;
  readonly renamed: StackArtifact;
  readonly prefixed: StackArtifact;
}

interface Sequence {
  readonly name: string;
  readonly duplicateDelivery?: DuplicateDelivery;
  /** Runs the sequence; each step it takes ends with `run.audit()` asserted empty. */
  readonly steps: (run: LifecycleRun, variants: Variants) => Promise<void>;
}

async function expectAudited(run: LifecycleRun): Promise<void> {
  expect(await run.audit()).toEqual([]);
}

async function deployed(run: LifecycleRun, artifact: StackArtifact): Promise<Map<string, string>> {
  await run.stack.deploy(artifact);
  // IAM enforced: the provisioner and every device run with their role's credentials.
  expect(run.workloadsWithoutRole()).toEqual([]);
  await expectAudited(run);
  return run.certificates();
}

async function updated(run: LifecycleRun, artifact: StackArtifact, status = 'UPDATE_COMPLETE') {
  expect(await run.stack.update(artifact)).toBe(status);
  await expectAudited(run);
  return run.certificates();
}

/** The provisioner's JSON log lines with `message`, parsed (the Lambda's stdout, relayed). */
function lambdaRecords(run: LifecycleRun, message: string): Record<string, unknown>[] {
  return run.lines
    .filter((line) => line.startsWith('[lambda ') && line.includes(`"${message}"`))
    .map((line) => JSON.parse(line.slice(line.indexOf('] ') + 2)) as Record<string, unknown>)
    .filter((record) => record.message === message);
}

/**
 * Refuses every write of a credential pointer (`…/current.json`) with
 * AccessDenied, as an explicit Deny would on AWS: the provisioner fails after
 * the certificate, its record and its objects exist, the last step of a
 * provision.
 */
function denyPointerWrites(run: LifecycleRun): InjectedFault {
  return run.cloud.faults.add({
    service: 's3',
    operation: 'PutObject',
    when: (request) => request.key?.endsWith('/current.json') === true,
    error: { code: 'AccessDenied', status: 403, message: 'Access Denied' },
  });
}

/** Also refuses the cleanup of a failed provision: deactivating the certificate, deleting objects. */
function denyCleanup(run: LifecycleRun): InjectedFault[] {
  const denied = { code: 'AccessDenied', status: 403, message: 'Access Denied' };
  return [
    run.cloud.faults.add({
      service: 'iot',
      operation: 'UpdateCertificate',
      error: { ...denied, code: 'AccessDeniedException' },
    }),
    run.cloud.faults.add({ service: 's3', operation: 'DeleteObjects', error: denied }),
    run.cloud.faults.add({ service: 's3', operation: 'DeleteObject', error: denied }),
  ];
}

function expectAllNew(before: Map<string, string>, after: Map<string, string>): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [thing, id] of after) expect(id).not.toBe(before.get(thing));
}

const sequences: Sequence[] = [
  {
    name: 'create',
    steps: async (run, v) => {
      const held = await deployed(run, v.fleet);
      expect([...held.keys()].sort()).toEqual(fleet);
    },
  },
  {
    name: 'rotate (a new rotationToken)',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      expectAllNew(before, await updated(run, v.rotated));
      for (const thing of fleet)
        expect(run.devices.events(thing)).toContainEqual({
          event: 'online',
          certificateId: run.certificates().get(thing),
        });
    },
  },
  {
    name: 'rotate, then another resource fails (the devices end on the old certificates)',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const after = await updated(run, withLateFailure(v.rotated), 'UPDATE_ROLLBACK_COMPLETE');
      expect(after).toEqual(before);
    },
  },
  {
    name: 'create with failing cleanup (the rollback Delete removes what the failed Create left)',
    steps: async (run, v) => {
      // Every thing's Create fails. The first FAILED starts the rollback; a
      // Create still running then is cancelled, and its Delete (an id
      // CloudFormation made up) may come while it still runs, or its cleanup
      // may meet the Deny for one step and not for the next, as it is lifted.
      const faults = [denyPointerWrites(run), ...denyCleanup(run)];
      // The Deny is lifted when the rollback starts: the failed Creates and
      // their own cleanups met it, the rollback Deletes do not.
      run.whenLogged(/ROLLBACK_IN_PROGRESS/, () => faults.forEach((fault) => fault.remove()));
      const error = await run.stack.deploy(v.fleet).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      faults.forEach((fault) => fault.remove());
      expect(isResourceStepError(error)).toBe(true);
      expect(run.stack.status).toBe('ROLLBACK_COMPLETE');
      // The Create made a certificate, failed, and could not clean it up.
      const failedCreates = run.stack.events.filter(
        (event) =>
          event.status === 'CREATE_FAILED' &&
          /cleanup of certificate [0-9a-f]{64} also failed/.test(event.reason ?? ''),
      );
      expect(failedCreates.length).toBeGreaterThan(0);
      expect(lambdaRecords(run, 'Compensation incomplete').length).toBeGreaterThan(0);
      expect(run.certificates().size).toBe(0);
      expect(await run.audit()).toEqual([]);
    },
  },
  {
    name: 'rotation Update fails (the rollback Update answers the old id and mints nothing)',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const created = lambdaRecords(run, 'Certificate created').length;
      const fault = denyPointerWrites(run);
      try {
        expect(await run.stack.update(v.rotated)).toBe('UPDATE_ROLLBACK_COMPLETE');
      } finally {
        fault.remove();
      }
      expect(fault.hits).toBeGreaterThanOrEqual(fleet.length);
      // Each rotation made its certificate before it failed; the rollback Update made none.
      expect(lambdaRecords(run, 'Certificate created').length).toBe(created + fleet.length);
      for (const [thing, id] of before) {
        const logicalId = run.certificateResource(thing).logicalId;
        const events = run.stack.events.filter((event) => event.logicalId === logicalId);
        expect(events.map((event) => event.status).slice(-3)).toEqual([
          'UPDATE_FAILED',
          'UPDATE_IN_PROGRESS',
          'UPDATE_COMPLETE',
        ]);
        expect(events.at(-1)?.physicalId).toBe(id);
      }
      await expectAudited(run);
      expect(run.certificates()).toEqual(before);
    },
  },
  {
    name: 'two rotations in a row',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const once = await updated(run, v.rotated);
      expectAllNew(before, once);
      expectAllNew(once, await updated(run, v.rotatedAgain));
    },
  },
  {
    name: 'remove a device',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const after = await updated(run, v.firstOnly);
      expect(after).toEqual(new Map([[first, before.get(first)]]));
    },
  },
  {
    name: 'rename a device',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const after = await updated(run, v.renamed);
      expect(after.get(first)).toBe(before.get(first));
      expect(after.has(second)).toBe(false);
      expect(after.has('thingcert-device-3')).toBe(true);
    },
  },
  {
    name: 'change keyPrefix (the credentials move; nothing is left under the old prefix)',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const instancesBefore = [...run.stack.devices.keys()];
      const after = await updated(run, v.prefixed);
      // The user data names the new pointer: each instance was replaced (a
      // new logical id, booted on the new pointer), none stopped and started.
      const instancesAfter = [...run.stack.devices.keys()];
      expect(instancesAfter).toHaveLength(fleet.length);
      expect(instancesAfter.filter((id) => instancesBefore.includes(id))).toEqual([]);
      expectAllNew(before, after);
      const bucket = String(run.certificateResource(first).properties.BucketName);
      for (const thing of fleet) {
        const resource = run.certificateResource(thing);
        expect(resource.properties.KeyPrefix).toBe('fleet-a/');
        expect(resource.attributes.CredentialPointerObjectKey).toBe(
          `fleet-a/${thing}/current.json`,
        );
        expect(run.devices.events(thing)).toContainEqual({
          event: 'online',
          certificateId: after.get(thing),
        });
      }
      const listed = await run.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const keys = (listed.Contents ?? []).map((object) => object.Key ?? '');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !key.startsWith('fleet-a/'))).toEqual([]);
    },
  },
  {
    name: 'update with drift: a certificate object deleted out of band, then a rotation',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const drifted = run.certificateResource(first);
      await run.s3.send(
        new DeleteObjectCommand({
          Bucket: String(drifted.properties.BucketName),
          Key: String(drifted.attributes.PrivateKeyObjectKey),
        }),
      );
      expect(await run.audit(0)).toEqual([
        `${drifted.logicalId} (${drifted.physicalId}): private key object ${String(drifted.attributes.PrivateKeyObjectKey)} missing`,
      ]);
      expectAllNew(before, await updated(run, v.rotated));
    },
  },
  {
    name: 'a crafted Delete naming a certificate we did not make (nothing touched)',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      const foreign = await run.iot.send(
        new CreateKeysAndCertificateCommand({ setAsActive: true }),
      );
      const foreignId = foreign.certificateId!;

      const answer = await sendCraftedDelete(
        run,
        v.fleet,
        run.certificateResource(first),
        foreignId,
      );
      run.lines.push(`[test] crafted Delete answered ${answer}`);

      // The foreign certificate is still there, ACTIVE; the stack's are untouched.
      expect(await run.audit(0)).toEqual([
        `certificate ${foreignId} (ACTIVE) exists; the stack does not hold it`,
      ]);
      expect(run.certificates()).toEqual(before);
      await run.iot.send(
        new UpdateCertificateCommand({ certificateId: foreignId, newStatus: 'INACTIVE' }),
      );
      await run.iot.send(new DeleteCertificateCommand({ certificateId: foreignId }));
      await expectAudited(run);
    },
  },
  {
    name: 'create fails late (the rollback leaves nothing)',
    steps: async (run, v) => {
      const error = await run.stack.deploy(withLateFailure(v.fleet)).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isResourceStepError(error)).toBe(true);
      expect(run.stack.status).toBe('ROLLBACK_COMPLETE');
      expect(run.certificates().size).toBe(0);
      expect(await run.audit()).toEqual([]);
    },
  },
  {
    name: 'rotate with every request delivered twice (duplicateDelivery: Create, Update and Delete)',
    duplicateDelivery: 'sequential',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      expectAllNew(before, await updated(run, v.rotated));
      expect(run.stack.duplicateAnswers).toBeGreaterThan(0);
      // Each kind of event (the Creates, the rotation Updates, the cleanup's
      // Deletes of the replaced certificates) reached the function twice.
      const deliveries = new Map<string, Map<unknown, number>>();
      for (const record of lambdaRecords(run, 'Request received')) {
        const byRequest = deliveries.get(String(record.requestType)) ?? new Map<unknown, number>();
        byRequest.set(record.requestId, (byRequest.get(record.requestId) ?? 0) + 1);
        deliveries.set(String(record.requestType), byRequest);
      }
      for (const requestType of ['Create', 'Update', 'Delete']) {
        const counts = [...(deliveries.get(requestType)?.values() ?? [])];
        expect(counts.length, requestType).toBeGreaterThanOrEqual(fleet.length);
        expect(new Set(counts), requestType).toEqual(new Set([2]));
      }
    },
  },
];

describe('certificate lifecycle through the local deployer', () => {
  let work: string;
  let variants: Variants;
  let run: LifecycleRun | undefined;

  // Each variant is one CDK synth (a child process): seconds idle, minutes on
  // a loaded machine. Synthesized on first use, so that running some rows
  // (`-t`) synthesizes only what they deploy.
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'thingcert-lifecycle-'));
    const contexts: Record<keyof Variants, Record<string, unknown>> = {
      fleet: { thingNames: fleet },
      rotated: { thingNames: fleet, rotationToken: 'rotation-2' },
      rotatedAgain: { thingNames: fleet, rotationToken: 'rotation-3' },
      firstOnly: { thingNames: [first] },
      renamed: { thingNames: [first, 'thingcert-device-3'] },
      prefixed: { thingNames: fleet, keyPrefix: 'fleet-a/' },
    };
    const synthesized = new Map<keyof Variants, StackArtifact>();
    variants = Object.defineProperties(
      {} as Variants,
      Object.fromEntries(
        Object.entries(contexts).map(([name, context]) => [
          name,
          {
            get: () => {
              const key = name as keyof Variants;
              if (!synthesized.has(key)) synthesized.set(key, synthesizeInto(work, context));
              return synthesized.get(key);
            },
          },
        ]),
      ),
    );
  });

  afterEach(async () => {
    const ending = run;
    run = undefined;
    if (!ending) return;
    await ending.end();
    expect(findSecretLeaks(ending.lines.join('\n'))).toEqual([]);
  }, 120_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  describe.each(sequences)('$name', (sequence) => {
    it('ends with CloudFormation, IoT, S3 and the devices agreeing; the delete leaves nothing', async () => {
      run = await LifecycleRun.start({ duplicateDelivery: sequence.duplicateDelivery });
      await sequence.steps(run, variants);
    }, 600_000);
  });
});
