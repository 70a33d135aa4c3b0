import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Template, TemplateResource } from './cloud-assembly';
import { ResourceStepError, StackStateError, TemplateError } from './errors';
import type { ResourceProvider } from './resource-provider';
import { StackEngine } from './stack-engine';

// CloudFormation's side only: providers are fakes that record every call, so
// these tests pin the order of calls, not what the local cloud does.

type Props = Record<string, unknown>;

/** Fake providers: a custom resource answering the id its properties name, things, attachments, IAM. */
function world(concurrency = 1) {
  const calls: string[] = [];
  const json = (value: unknown) => JSON.stringify(value);
  const custom: ResourceProvider = {
    async create({ logicalId, properties }) {
      calls.push(`Create ${logicalId} ${json(properties)}`);
      if (properties.Delay) {
        await sleep(Number(properties.Delay));
        calls.push(`Created ${logicalId}`);
      }
      const physicalId = String(properties.PhysicalId);
      if (properties.FailOn === 'Create') {
        throw new ResourceStepError(logicalId, 'Create', 'FAILED', { physicalId });
      }
      return { physicalId, attributes: { Arn: `arn:${physicalId}` } };
    },
    async update({ logicalId, properties }, current) {
      calls.push(
        `Update ${logicalId} ${current.physicalId} ${json(properties)} old=${json(current.properties)}`,
      );
      const physicalId = String(properties.PhysicalId);
      if (properties.FailOn === 'Update' || current.properties.FailRollback === 'yes') {
        throw new ResourceStepError(logicalId, 'Update', 'FAILED', {
          physicalId: current.physicalId,
        });
      }
      return { physicalId, attributes: { Arn: `arn:${physicalId}` } };
    },
    async delete({ logicalId, physicalId, properties }) {
      calls.push(`Delete ${logicalId} ${physicalId}`);
      if (properties.FailOn === 'Delete')
        throw new ResourceStepError(logicalId, 'Delete', 'FAILED');
    },
  };
  const native = (idOf: (properties: Props) => string): ResourceProvider => ({
    async create({ logicalId, properties }) {
      const physicalId = idOf(properties);
      calls.push(`Create ${logicalId} ${physicalId}`);
      if (physicalId.includes(' '))
        throw new ResourceStepError(logicalId, 'CreateThing', 'invalid name');
      return { physicalId, attributes: {} };
    },
    async update({ logicalId }, current) {
      calls.push(`Update ${logicalId} ${current.physicalId}`);
      return { physicalId: current.physicalId, attributes: current.attributes };
    },
    async delete({ logicalId, physicalId }) {
      calls.push(`Delete ${logicalId} ${physicalId}`);
    },
  });
  const providers: Record<string, ResourceProvider> = {
    'Custom::Recorder': custom,
    'AWS::IoT::Thing': native((p) => String(p.ThingName)),
    'AWS::IoT::ThingPrincipalAttachment': native(
      (p) => `${String(p.ThingName)}|${String(p.Principal)}`,
    ),
    'AWS::IAM::Policy': native(() => 'grant-1'),
  };
  const lines: string[] = [];
  const engine = new StackEngine({
    stackName: 'Test',
    stackId: 'arn:aws:cloudformation:eu-west-1:000000000000:stack/Test/1',
    region: 'eu-west-1',
    accountId: '000000000000',
    providerFor: (type) => providers[type]!,
    concurrency,
    log: (line) => lines.push(line),
  });
  return { engine, calls, lines };
}

/** A certificate-like custom resource, its grant, a thing and their attachment. */
function template(cert: Props, extra: Record<string, TemplateResource> = {}): Template {
  return {
    Resources: {
      Grant: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: 'v1' } },
      Cert: { Type: 'Custom::Recorder', DependsOn: 'Grant', Properties: cert },
      Thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'device-1' } },
      Attachment: {
        Type: 'AWS::IoT::ThingPrincipalAttachment',
        Properties: { Principal: { 'Fn::GetAtt': ['Cert', 'Arn'] }, ThingName: { Ref: 'Thing' } },
      },
      ...extra,
    },
  };
}

const BAD_THING: Record<string, TemplateResource> = {
  Bad: { Type: 'AWS::IoT::Thing', DependsOn: 'Attachment', Properties: { ThingName: 'bad name' } },
};

/** A fixture whose stack was created from `template(cert)`, with the calls of that create forgotten. */
async function deployed(cert: Props, concurrency = 1) {
  const fixture = world(concurrency);
  expect(await fixture.engine.create(template(cert))).toBeUndefined();
  fixture.calls.length = 0;
  return fixture;
}

describe('Class: StackEngine', () => {
  describe('Method: update', () => {
    it('updates a custom resource in place: one Update with the new and old properties, nothing else', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A', Token: '1' });

      const result = await engine.update(template({ PhysicalId: 'cert-A', Token: '2' }));

      expect(result).toEqual({ status: 'UPDATE_COMPLETE', reason: undefined });
      expect(calls).toEqual([
        'Update Cert cert-A {"PhysicalId":"cert-A","Token":"2"} old={"PhysicalId":"cert-A","Token":"1"}',
      ]);
    });

    it('replaces on a new physical id: dependents see the new value in the update phase, old ids go in cleanup, dependents first', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A' });

      await engine.update(template({ PhysicalId: 'cert-B' }));

      expect(calls).toEqual([
        'Update Cert cert-A {"PhysicalId":"cert-B"} old={"PhysicalId":"cert-A"}',
        'Create Attachment device-1|arn:cert-B',
        'Delete Attachment device-1|arn:cert-A',
        'Delete Cert cert-A',
      ]);
      const statuses = engine.events.events.map((event) => `${event.logicalId} ${event.status}`);
      expect(statuses.indexOf('Test UPDATE_COMPLETE_CLEANUP_IN_PROGRESS')).toBeLessThan(
        statuses.indexOf('Cert DELETE_IN_PROGRESS'),
      );
      expect(engine.resources.get('Cert')?.physicalId).toBe('cert-B');
    });

    it('updates the IAM policy in the update phase and deletes the resource removed from the template in cleanup', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A' });
      const next = template({});
      next.Resources.Grant!.Properties = { PolicyDocument: 'v2' };
      delete next.Resources.Cert;
      delete next.Resources.Attachment;

      await engine.update(next);

      expect(calls).toEqual([
        'Update Grant grant-1',
        'Delete Attachment device-1|arn:cert-A',
        'Delete Cert cert-A',
      ]);
    });

    it('rolls back a replacement when another resource fails: no call to switch back, the new id deleted in rollback cleanup', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A' });

      const result = await engine.update(template({ PhysicalId: 'cert-B' }, BAD_THING));

      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(calls).toEqual([
        'Update Cert cert-A {"PhysicalId":"cert-B"} old={"PhysicalId":"cert-A"}',
        'Create Attachment device-1|arn:cert-B',
        'Create Bad bad name',
        'Delete Attachment device-1|arn:cert-B',
        'Delete Cert cert-B',
      ]);
      expect(engine.resources.get('Cert')).toMatchObject({
        physicalId: 'cert-A',
        attributes: { Arn: 'arn:cert-A' },
      });
      expect(engine.events.events).toContainEqual(
        expect.objectContaining({
          status: 'UPDATE_ROLLBACK_IN_PROGRESS',
          reason: 'The following resource(s) failed to create: [Bad].',
        }),
      );
      expect(engine.template.Resources.Bad).toBeUndefined();
    });

    it('sends the custom resource whose Update failed an Update back with the properties swapped', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A', Token: '1' });

      const result = await engine.update(
        template({ PhysicalId: 'cert-A', Token: '2', FailOn: 'Update' }),
      );

      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      expect(calls).toEqual([
        'Update Cert cert-A {"PhysicalId":"cert-A","Token":"2","FailOn":"Update"} old={"PhysicalId":"cert-A","Token":"1"}',
        'Update Cert cert-A {"PhysicalId":"cert-A","Token":"1"} old={"PhysicalId":"cert-A","Token":"2","FailOn":"Update"}',
      ]);
    });

    it('ends UPDATE_COMPLETE with a reason when a cleanup delete fails three times, the resource orphaned', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A', FailOn: 'Delete' });

      const result = await engine.update(template({ PhysicalId: 'cert-B' }));

      expect(result).toEqual({
        status: 'UPDATE_COMPLETE',
        reason: 'Update successful. One or more resources could not be deleted.',
      });
      expect(calls.filter((call) => call === 'Delete Cert cert-A')).toHaveLength(3);
      expect(engine.events.events).toContainEqual(
        expect.objectContaining({
          logicalId: 'Cert',
          physicalId: 'cert-A',
          status: 'DELETE_FAILED',
        }),
      );
      expect(engine.resources.get('Cert')?.physicalId).toBe('cert-B');
    });

    it('ends UPDATE_ROLLBACK_FAILED when the Update back fails, refuses further updates, and deletes all it tracks', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A' });

      const result = await engine.update(
        template({ PhysicalId: 'cert-A', FailOn: 'Update', FailRollback: 'yes' }),
      );

      expect(result.status).toBe('UPDATE_ROLLBACK_FAILED');
      expect(calls).toHaveLength(2);
      await expect(engine.update(template({ PhysicalId: 'cert-C' }))).rejects.toBeInstanceOf(
        StackStateError,
      );
      const deleted = await engine.delete();
      expect(deleted.failed).toEqual([]);
      expect(engine.status).toBe('DELETE_COMPLETE');
    });

    it('refuses an identical template, a type change and a new ServiceToken before doing anything', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A' });
      const retyped = template({ PhysicalId: 'cert-A' });
      retyped.Resources.Thing = { Type: 'AWS::IAM::Policy' };
      const retargeted = template({ PhysicalId: 'cert-A', ServiceToken: 'arn:other' });

      await expect(engine.update(template({ PhysicalId: 'cert-A' }))).rejects.toThrow(
        'No updates are to be performed.',
      );
      await expect(engine.update(retyped)).rejects.toBeInstanceOf(TemplateError);
      await expect(engine.update(retargeted)).rejects.toThrow(
        'Cert: the ServiceToken of a custom resource cannot be updated',
      );
      expect(calls).toEqual([]);
      expect(engine.status).toBe('CREATE_COMPLETE');
    });
  });

  describe('Method: create', () => {
    it('refuses a template whose dependencies form a cycle, creating nothing', async () => {
      const { engine, calls } = world();
      const cyclic = template({ PhysicalId: 'cert-A' });
      cyclic.Resources.Grant!.DependsOn = 'Attachment';

      await expect(engine.create(cyclic)).rejects.toThrow(/dependency cycle/);
      expect(engine.status).toBeUndefined();
      expect(calls).toEqual([]);
    });

    it('rolls back a failed create: everything created deleted, the failed custom resource included, dependents first', async () => {
      const { engine, calls } = world();

      const failed = await engine.create(template({ PhysicalId: 'cert-A', FailOn: 'Create' }));

      expect(failed?.status).toBe('ROLLBACK_COMPLETE');
      expect(failed?.error).toBeInstanceOf(ResourceStepError);
      expect(calls.slice(-2)).toEqual(['Delete Cert cert-A', 'Delete Grant grant-1']);
      expect(engine.resources.size).toBe(0);
    });

    it('cancels a custom resource still being created when another fails: a Delete with a made-up id, its late answer ignored', async () => {
      const { engine, calls } = world(4);
      const slow = template(
        { PhysicalId: 'cert-A', Delay: 300 },
        {
          Bad: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'bad name' } },
        },
      );

      const failed = await engine.create(slow);

      expect(failed?.status).toBe('ROLLBACK_COMPLETE');
      expect(engine.events.events).toContainEqual(
        expect.objectContaining({
          logicalId: 'Cert',
          status: 'CREATE_FAILED',
          reason: 'Resource creation cancelled',
        }),
      );
      const madeUpDelete = calls.findIndex((call) =>
        /^Delete Cert Test-Cert-[0-9A-F]{12}$/.test(call),
      );
      expect(madeUpDelete).toBeGreaterThanOrEqual(0);
      // Sent while the Create was still running; its answer came later and counts for nothing.
      expect(madeUpDelete).toBeLessThan(calls.indexOf('Created Cert'));
      expect(engine.resources.has('Cert')).toBe(false);
    });

    it('runs independent resources in parallel', async () => {
      const { engine, calls } = world(4);
      const two = template(
        { PhysicalId: 'a', Delay: 100 },
        {
          Other: { Type: 'Custom::Recorder', Properties: { PhysicalId: 'b', Delay: 100 } },
        },
      );

      await engine.create(two);

      const at = (prefix: string) => calls.findIndex((call) => call.startsWith(prefix));
      expect(at('Create Cert')).toBeLessThan(at('Created Other'));
      expect(at('Create Other')).toBeLessThan(at('Created Cert'));
    });
  });

  describe('Method: delete', () => {
    it('ends DELETE_FAILED still holding what it could not delete, having deleted the rest', async () => {
      const { engine, calls } = await deployed({ PhysicalId: 'cert-A', FailOn: 'Delete' });

      const result = await engine.delete();

      expect(engine.status).toBe('DELETE_FAILED');
      expect(result.failed.map((failure) => failure.resource.physicalId)).toEqual(['cert-A']);
      expect([...engine.resources.keys()]).toEqual(['Cert']);
      expect(calls).toContain('Delete Grant grant-1');
    });

    it('keeps DeletionPolicy Retain (DELETE_SKIPPED) and deletes the rest in reverse order', async () => {
      const fixture = world();
      const kept = template({ PhysicalId: 'cert-A' });
      kept.Resources.Thing!.DeletionPolicy = 'Retain';
      await fixture.engine.create(kept);
      fixture.calls.length = 0;

      await fixture.engine.delete();

      expect(fixture.calls).toEqual([
        'Delete Attachment device-1|arn:cert-A',
        'Delete Cert cert-A',
        'Delete Grant grant-1',
      ]);
      expect(fixture.engine.retained.map((resource) => resource.physicalId)).toEqual(['device-1']);
      expect(fixture.engine.events.events).toContainEqual(
        expect.objectContaining({ logicalId: 'Thing', status: 'DELETE_SKIPPED' }),
      );
    });
  });
});
