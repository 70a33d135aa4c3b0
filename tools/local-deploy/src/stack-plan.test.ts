import { describe, expect, it } from 'vitest';
import type { Template } from './cloud-assembly';
import type { DeployedResource } from './resource-provider';
import {
  planApply,
  planCleanup,
  planCreateRollback,
  planStackDelete,
  planUpdateRollback,
  type DeleteStep,
} from './stack-plan';

const CERT = 'Custom::ThingcertDeviceCertificate';

/** A stack of the shape thingcert deploys: a provisioner grant, a certificate, a thing and their attachment. */
function template(overrides: Partial<Template['Resources']> = {}): Template {
  return {
    Resources: {
      Grant: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { v: 1 } } },
      Fn: { Type: 'AWS::Lambda::Function', DependsOn: 'Grant' },
      Cert: {
        Type: CERT,
        DependsOn: ['Grant'],
        Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Token: '1' },
      },
      Thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'device-1' } },
      Attachment: {
        Type: 'AWS::IoT::ThingPrincipalAttachment',
        Properties: {
          Principal: { 'Fn::GetAtt': ['Cert', 'CertificateArn'] },
          ThingName: { Ref: 'Thing' },
        },
      },
      ...overrides,
    },
  };
}

function resource(
  logicalId: string,
  physicalId: string,
  properties: Record<string, unknown> = {},
  type = 'AWS::IoT::Thing',
): DeployedResource {
  return { logicalId, type, physicalId, properties, attributes: {}, skipped: false };
}

/** The plan as a sequence a single worker would run: each step after those it waits for. */
function sequence(steps: readonly DeleteStep[]): string[] {
  const done: string[] = [];
  const left = [...steps];
  while (left.length > 0) {
    const next = left.findIndex((step) => [...step.waitsFor].every((key) => done.includes(key)));
    expect(next, 'a step waits for something never done').toBeGreaterThanOrEqual(0);
    done.push(left.splice(next, 1)[0]!.key);
  }
  return done;
}

describe('Function: planApply', () => {
  it('walks the new template forward, each resource after what it references', () => {
    const plan = planApply(template(), new Set(['Grant', 'Fn', 'Cert', 'Thing', 'Attachment']));

    expect([...plan.keys()]).toEqual(['Grant', 'Fn', 'Cert', 'Thing', 'Attachment']);
    expect(plan.get('Cert')).toEqual(new Set(['Fn', 'Grant']));
    expect(plan.get('Attachment')).toEqual(new Set(['Cert', 'Thing']));
  });

  it('leaves out a resource whose condition is false, and what waits on it does not wait', () => {
    const plan = planApply(template(), new Set(['Grant', 'Fn', 'Cert', 'Attachment']));

    expect(plan.has('Thing')).toBe(false);
    expect(plan.get('Attachment')).toEqual(new Set(['Cert']));
  });
});

describe('Function: planCleanup', () => {
  it('deletes the old ids of a replaced certificate and attachment, the attachment first', () => {
    const oldCert = resource('Cert', 'cert-A', { Token: '1' }, CERT);
    const oldAttachment = resource('Attachment', 'device-1|arn-A');
    const outcomes = [
      { kind: 'replaced', before: oldCert, after: { ...oldCert, physicalId: 'cert-B' } },
      {
        kind: 'replaced',
        before: oldAttachment,
        after: { ...oldAttachment, physicalId: 'device-1|arn-B' },
      },
    ] as const;

    const steps = planCleanup(template(), template(), outcomes, []);

    expect(sequence(steps)).toEqual(['Attachment device-1|arn-A', 'Cert cert-A']);
    expect(steps.map((step) => step.resource.physicalId)).not.toContain('cert-B');
    expect(steps.every((step) => !step.retain)).toBe(true);
  });

  it('deletes a resource removed from the template after everything that depended on it, in the OLD graph', () => {
    // The new template drops the certificate and edits the grant it depended on:
    // the grant's update belongs to the update phase, the certificate's Delete
    // to cleanup; if both go, the certificate goes first.
    const next = template({
      Grant: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { v: 2 } } },
    });
    delete next.Resources.Cert;
    delete next.Resources.Attachment;

    const phase = planApply(next, new Set(Object.keys(next.Resources)));
    const cleanup = planCleanup(
      template(),
      next,
      [],
      [resource('Cert', 'cert-A', {}, CERT), resource('Grant', 'grant-1', {}, 'AWS::IAM::Policy')],
    );

    expect([...phase.keys()]).toContain('Grant');
    expect([...phase.keys()]).not.toContain('Cert');
    expect(sequence(cleanup)).toEqual(['Cert cert-A', 'Grant grant-1']);
  });

  it('keeps a replaced resource under UpdateReplacePolicy Retain and a removed one under DeletionPolicy Retain or RetainExceptOnCreate', () => {
    const old = template({
      Thing: { Type: 'AWS::IoT::Thing', DeletionPolicy: 'RetainExceptOnCreate' },
      Grant: { Type: 'AWS::IAM::Policy', DeletionPolicy: 'Retain' },
    });
    const next = template({
      Cert: { ...template().Resources.Cert!, UpdateReplacePolicy: 'Retain' },
    });
    const cert = resource('Cert', 'cert-A', {}, CERT);

    const steps = planCleanup(
      old,
      next,
      [{ kind: 'replaced', before: cert, after: { ...cert, physicalId: 'cert-B' } }],
      [resource('Thing', 'device-1'), resource('Grant', 'grant-1'), resource('Fn', 'fn-1')],
    );

    const retained = Object.fromEntries(
      steps.map((step) => [step.resource.logicalId, step.retain]),
    );
    expect(retained).toEqual({ Cert: true, Thing: true, Grant: true, Fn: false });
  });
});

describe('Function: planUpdateRollback', () => {
  const before = resource('Cert', 'cert-A', { Token: '1' }, CERT);

  it('sends a custom resource updated in place an Update back: old properties restored, new ones as the current', () => {
    const after = { ...before, properties: { Token: '2' } };

    const plan = planUpdateRollback(template(), template(), [{ kind: 'updated', before, after }]);

    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatchObject({ kind: 'update-back', logicalId: 'Cert' });
    expect(plan.steps[0]!.restore.properties).toEqual({ Token: '1' });
    expect(plan.steps[0]!.current.properties).toEqual({ Token: '2' });
    expect(plan.steps[0]!.current.physicalId).toBe('cert-A');
    expect(plan.cleanup).toEqual([]);
  });

  it('sends the custom resource whose own Update failed an Update back with the properties that failed as the current ones', () => {
    const plan = planUpdateRollback(template(), template(), [
      { kind: 'update-failed', before, attempted: { Token: '2' }, answeredId: 'cert-A' },
    ]);

    expect(plan.steps[0]).toMatchObject({ kind: 'update-back' });
    expect(plan.steps[0]!.current).toMatchObject({
      physicalId: 'cert-A',
      properties: { Token: '2' },
    });
    expect(plan.steps[0]!.restore.properties).toEqual({ Token: '1' });
  });

  it('gives another type whose Update failed a no-op rollback', () => {
    const thing = resource('Thing', 'device-1', { AttributePayload: 1 });

    const plan = planUpdateRollback(template(), template(), [
      { kind: 'update-failed', before: thing, attempted: { AttributePayload: 2 } },
    ]);

    expect(plan).toEqual({ steps: [], cleanup: [] });
  });

  it('switches replaced resources back with no call and deletes the new ids in rollback cleanup, reverse NEW order', () => {
    const attachment = resource('Attachment', 'device-1|arn-A');
    const outcomes = [
      { kind: 'replaced', before, after: { ...before, physicalId: 'cert-B' } },
      {
        kind: 'replaced',
        before: attachment,
        after: { ...attachment, physicalId: 'device-1|arn-B' },
      },
      { kind: 'created', resource: resource('Extra', 'extra-1') },
    ] as const;
    const next = template({ Extra: { Type: 'AWS::IoT::Thing', DependsOn: 'Attachment' } });

    const plan = planUpdateRollback(template(), next, outcomes);

    expect(plan.steps.map((step) => [step.kind, step.logicalId])).toEqual([
      ['switch-back', 'Cert'],
      ['switch-back', 'Attachment'],
    ]);
    expect(plan.steps[1]!.waitsFor).toEqual(new Set(['Cert']));
    expect(sequence(plan.cleanup)).toEqual([
      'Extra extra-1',
      'Attachment device-1|arn-B',
      'Cert cert-B',
    ]);
  });

  it('treats a FAILED Update answered with a new id as a failed replacement: switched back, the new id deleted', () => {
    const plan = planUpdateRollback(template(), template(), [
      { kind: 'update-failed', before, attempted: { Token: '2' }, answeredId: 'cert-X' },
    ]);

    expect(plan.steps[0]).toMatchObject({ kind: 'switch-back', restore: before });
    expect(plan.cleanup.map((step) => step.resource)).toEqual([
      { ...before, physicalId: 'cert-X', properties: { Token: '2' } },
    ]);
  });

  it('keeps a resource added with DeletionPolicy Retain, and deletes one with RetainExceptOnCreate', () => {
    const next = template({
      Kept: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' },
      Gone: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'RetainExceptOnCreate' },
    });

    const plan = planUpdateRollback(template(), next, [
      { kind: 'created', resource: resource('Kept', 'kept') },
      { kind: 'created', resource: resource('Gone', 'gone') },
    ]);

    expect(plan.cleanup.map((step) => [step.resource.logicalId, step.retain])).toEqual([
      ['Gone', false],
      ['Kept', true],
    ]);
  });
});

describe('Function: planCreateRollback', () => {
  it('deletes everything created and the custom resource whose Create failed, dependents first', () => {
    const steps = planCreateRollback(template(), [
      { kind: 'created', resource: resource('Grant', 'grant-1') },
      { kind: 'created', resource: resource('Fn', 'fn-1') },
      { kind: 'created', resource: resource('Thing', 'device-1') },
      {
        kind: 'create-failed',
        logicalId: 'Cert',
        leftover: resource('Cert', 'failed-id', {}, CERT),
      },
      { kind: 'create-failed', logicalId: 'Attachment' },
    ]);

    const order = sequence(steps);
    expect(order).toHaveLength(4);
    expect(order.indexOf('Cert failed-id')).toBeLessThan(order.indexOf('Fn fn-1'));
    expect(order.indexOf('Fn fn-1')).toBeLessThan(order.indexOf('Grant grant-1'));
  });

  it('keeps DeletionPolicy Retain on a create rollback and deletes RetainExceptOnCreate', () => {
    const steps = planCreateRollback(
      template({
        Thing: { Type: 'AWS::IoT::Thing', DeletionPolicy: 'Retain' },
        Grant: { Type: 'AWS::IAM::Policy', DeletionPolicy: 'RetainExceptOnCreate' },
      }),
      [
        { kind: 'created', resource: resource('Thing', 'device-1') },
        { kind: 'created', resource: resource('Grant', 'grant-1') },
      ],
    );

    expect(Object.fromEntries(steps.map((s) => [s.resource.logicalId, s.retain]))).toEqual({
      Thing: true,
      Grant: false,
    });
  });
});

describe('Function: planStackDelete', () => {
  it('deletes in reverse dependency order and keeps Retain and RetainExceptOnCreate', () => {
    const steps = planStackDelete(
      template({ Thing: { Type: 'AWS::IoT::Thing', DeletionPolicy: 'RetainExceptOnCreate' } }),
      [
        resource('Thing', 'device-1'),
        resource('Attachment', 'device-1|arn-A'),
        resource('Cert', 'cert-A', {}, CERT),
      ],
    );

    const order = sequence(steps);
    expect(order[0]).toBe('Attachment device-1|arn-A');
    expect(order.slice(1).sort()).toEqual(['Cert cert-A', 'Thing device-1']);
    expect(steps.find((step) => step.resource.logicalId === 'Thing')?.retain).toBe(true);
  });
});
