import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
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
    name: 'rotate with every request delivered twice (duplicateDelivery)',
    duplicateDelivery: 'sequential',
    steps: async (run, v) => {
      const before = await deployed(run, v.fleet);
      expectAllNew(before, await updated(run, v.rotated));
      expect(run.stack.duplicateAnswers).toBeGreaterThan(0);
    },
  },
];

describe('certificate lifecycle through the local deployer', () => {
  let work: string;
  let variants: Variants;
  let run: LifecycleRun | undefined;

  // Each variant is one CDK synth (a child process): seconds idle, far more
  // on a loaded machine.
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'thingcert-lifecycle-'));
    const synth = (context: Record<string, unknown>) => synthesizeInto(work, context);
    variants = {
      fleet: synth({ thingNames: fleet }),
      rotated: synth({ thingNames: fleet, rotationToken: 'rotation-2' }),
      rotatedAgain: synth({ thingNames: fleet, rotationToken: 'rotation-3' }),
      firstOnly: synth({ thingNames: [first] }),
      renamed: synth({ thingNames: [first, 'thingcert-device-3'] }),
    };
  }, 600_000);

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
