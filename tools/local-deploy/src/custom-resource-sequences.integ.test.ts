import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCloud, type LocalCloud } from '@thingcert/local-cloud';
import {
  readRecordedRequests,
  recordingFunction,
  recordingResource,
  type RecordingResourceProperties,
} from '@thingcert/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StackArtifact, Template } from './cloud-assembly';
import type { DuplicateDelivery } from './custom-resource-call';
import { LocalStack } from './local-stack';
import { EXECUTION_ROLE, withRole } from '../test/execution-role';

// What a custom resource receives, request by request, through the engine,
// the local Lambda runtime and the response endpoint: a recorder (inline
// Lambda code) appends each event to a file and answers the physical id its
// properties name. Another resource fails for real: a thing whose name the
// local IoT refuses.

const work = mkdtempSync(join(tmpdir(), 'thingcert-sequences-'));
let cloud: LocalCloud;
beforeAll(async () => void (cloud = await startLocalCloud()));
afterAll(async () => {
  await cloud.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A thing the local IoT refuses to create (a space is not allowed in a thing name). */
const REFUSED_THING = { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'not a valid name' } };

let stacks = 0;

/** A stack with the recorder function, and a template builder around it. */
function scenario(options: { duplicateDelivery?: DuplicateDelivery } = {}) {
  const name = `Sequences${++stacks}`;
  const recordFile = join(work, `${name}.jsonl`);
  const lines: string[] = [];
  const stack = new LocalStack(name, {
    cloud,
    log: (source, line) => lines.push(`[${source}] ${line}`),
    ...options,
  });
  const artifact = (resources: Record<string, unknown>): StackArtifact => ({
    stackName: name,
    template: {
      Resources: {
        RecorderRole: EXECUTION_ROLE,
        RecorderFunction: withRole(recordingFunction(recordFile), 'RecorderRole'),
        ...resources,
      },
    } as unknown as Template,
    assetsByObjectKey: new Map(),
  });
  const recorder = (properties: RecordingResourceProperties, attributes = {}) =>
    recordingResource('RecorderFunction', properties, attributes);
  /** Each recorded request as `[RequestType, PhysicalResourceId, ResourceProperties, OldResourceProperties]`. */
  const received = () =>
    readRecordedRequests(recordFile).map((request) => [
      request.RequestType,
      request.PhysicalResourceId,
      request.ResourceProperties,
      request.OldResourceProperties,
    ]);
  /** Deploys the recorder with `properties`; the scenario, ready for its update. */
  const deployed = async (properties: RecordingResourceProperties) => {
    await stack.deploy(artifact({ Recorder: recorder(properties) }));
    return api;
  };
  /** The physical id the stack holds for the recorder, and the `Id` attribute it answered with it. */
  const held = () => {
    const resource = stack.resources.get('Recorder');
    return [resource?.physicalId, resource?.attributes.Id];
  };
  const api = { stack, artifact, recorder, received, recordFile, lines, deployed, held };
  return api;
}

describe('what a custom resource receives', () => {
  it('updated in place: one Update with the new properties, the old ones and its id', async () => {
    const { stack, artifact, recorder, received } = await scenario().deployed({
      PhysicalId: 'r-1',
      Token: '1',
    });

    const status = await stack.update(
      artifact({ Recorder: recorder({ PhysicalId: 'r-1', Token: '2' }) }),
    );

    expect(status).toBe('UPDATE_COMPLETE');
    expect(received()).toEqual([
      ['Create', undefined, { PhysicalId: 'r-1', Token: '1' }, undefined],
      ['Update', 'r-1', { PhysicalId: 'r-1', Token: '2' }, { PhysicalId: 'r-1', Token: '1' }],
    ]);
    await stack.destroy();
  });

  it('replaced: the Update answered with a new id, then the Delete of the old id in cleanup', async () => {
    const { stack, artifact, recorder, received, held } = await scenario().deployed({
      PhysicalId: 'r-1',
    });

    await stack.update(artifact({ Recorder: recorder({ PhysicalId: 'r-2' }) }));

    expect(received()).toEqual([
      ['Create', undefined, { PhysicalId: 'r-1' }, undefined],
      ['Update', 'r-1', { PhysicalId: 'r-2' }, { PhysicalId: 'r-1' }],
      ['Delete', 'r-1', { PhysicalId: 'r-1' }, undefined],
    ]);
    expect(held()).toEqual(['r-2', 'r-2']);
    const statuses = stack.events.map((event) => event.status);
    expect(statuses.slice(-4)).toEqual([
      'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
      'DELETE_IN_PROGRESS',
      'DELETE_COMPLETE',
      'UPDATE_COMPLETE',
    ]);
    await stack.destroy();
  });

  it('replaced, then another resource fails: no call to switch it back, the new id deleted in rollback cleanup', async () => {
    const { stack, artifact, recorder, received, held } = await scenario().deployed({
      PhysicalId: 'r-1',
    });

    const status = await stack.update(
      artifact({
        Recorder: recorder({ PhysicalId: 'r-2' }),
        Refused: { ...REFUSED_THING, DependsOn: 'Recorder' },
      }),
    );

    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(received()).toEqual([
      ['Create', undefined, { PhysicalId: 'r-1' }, undefined],
      ['Update', 'r-1', { PhysicalId: 'r-2' }, { PhysicalId: 'r-1' }],
      ['Delete', 'r-2', { PhysicalId: 'r-2' }, undefined],
    ]);
    expect(held()).toEqual(['r-1', 'r-1']);
    expect(stack.events).toContainEqual(
      expect.objectContaining({
        logicalId: 'Refused',
        status: 'CREATE_FAILED',
        reason: expect.stringMatching(/CreateThing failed: InvalidRequestException/) as unknown,
      }),
    );
    await stack.destroy();
  });

  it('its own Update fails: the rollback Update carries the old properties and the failed ones as old', async () => {
    const { stack, artifact, recorder, received } = await scenario().deployed({
      PhysicalId: 'r-1',
      Token: '1',
    });

    const status = await stack.update(
      artifact({ Recorder: recorder({ PhysicalId: 'r-1', Token: '2', FailOn: 'Update' }) }),
    );

    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    const failed = { PhysicalId: 'r-1', Token: '2', FailOn: 'Update' };
    expect(received()).toEqual([
      ['Create', undefined, { PhysicalId: 'r-1', Token: '1' }, undefined],
      ['Update', 'r-1', failed, { PhysicalId: 'r-1', Token: '1' }],
      ['Update', 'r-1', { PhysicalId: 'r-1', Token: '1' }, failed],
    ]);
    expect(stack.statusReason).toBeUndefined();
    await stack.destroy();
  });

  it('removed from the template: a Delete with its id and last properties, in cleanup', async () => {
    const { stack, artifact, received } = await scenario().deployed({
      PhysicalId: 'r-1',
      Token: '1',
    });

    await stack.update(artifact({}));

    expect(received()).toEqual([
      ['Create', undefined, { PhysicalId: 'r-1', Token: '1' }, undefined],
      ['Delete', 'r-1', { PhysicalId: 'r-1', Token: '1' }, undefined],
    ]);
    expect(stack.resources.has('Recorder')).toBe(false);
    await stack.destroy();
  });

  it('a create failing late: a Delete for everything created, the failed custom resource included, dependents first', async () => {
    const { stack, artifact, recorder, received } = scenario();

    const error = await stack
      .deploy(
        artifact({
          First: recorder({ PhysicalId: 'first' }),
          Second: recorder({ PhysicalId: 'second', FailOn: 'Create' }, { DependsOn: 'First' }),
        }),
      )
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );

    expect(error).toMatchObject({ logicalId: 'Second', step: 'Create' });
    expect(stack.status).toBe('ROLLBACK_COMPLETE');
    expect(received()).toEqual([
      ['Create', undefined, { PhysicalId: 'first' }, undefined],
      ['Create', undefined, { PhysicalId: 'second', FailOn: 'Create' }, undefined],
      ['Delete', 'second', { PhysicalId: 'second', FailOn: 'Create' }, undefined],
      ['Delete', 'first', { PhysicalId: 'first' }, undefined],
    ]);
    expect(stack.resources.size).toBe(0);
    await stack.destroy();
  });

  it('delivers every request twice when asked, the first answer counting', async () => {
    const { stack, artifact, recorder, recordFile, held } = await scenario({
      duplicateDelivery: 'sequential',
    }).deployed({ PhysicalId: 'r-1' });
    await stack.update(artifact({ Recorder: recorder({ PhysicalId: 'r-2' }) }));

    // update() returns once the duplicates too have run (the stack's own
    // Delete is left out: the function may be gone before its duplicate).
    const requests = readRecordedRequests(recordFile);
    const byId = new Map<string, typeof requests>();
    for (const request of requests) {
      byId.set(request.RequestId, [...(byId.get(request.RequestId) ?? []), request]);
    }
    expect([...byId.values()].map((same) => [same.length, same[0]!.RequestType])).toEqual([
      [2, 'Create'],
      [2, 'Update'],
      [2, 'Delete'],
    ]);
    expect(stack.duplicateAnswers).toBe(3);
    expect(held()).toEqual(['r-2', 'r-2']);
    await stack.destroy();
  });
});
