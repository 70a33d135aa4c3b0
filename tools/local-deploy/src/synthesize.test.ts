import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_AMI_ID, localLookupsPath, localLookupValues, synthesize } from './synthesize';

const AMI_KEY =
  'ssm:account=000000000000:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64:region=us-east-1';

// A stand-in for the built infra app: it records the context it was given
// (and counts its runs in apps/infra/runs.log) and, like a CDK app with a
// lookup, reports the AMI key missing until the context holds it.
const FAKE_APP = `
import { appendFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
appendFileSync('runs.log', 'run\\n');
const context = JSON.parse(process.env.CDK_CONTEXT_JSON);
const outdir = process.env.CDK_OUTDIR;
mkdirSync(outdir, { recursive: true });
const missing = context[${JSON.stringify(AMI_KEY)}] === undefined && !context.noLookup
  ? [{ key: ${JSON.stringify(AMI_KEY)}, provider: 'ssm', props: {} }] : undefined;
writeFileSync(join(outdir, 'manifest.json'), JSON.stringify({ version: '1', artifacts: {}, ...(missing ? { missing } : {}) }));
writeFileSync(join(outdir, 'context.json'), JSON.stringify(context));
writeFileSync(join(outdir, 'validation.json'), JSON.stringify(process.env.CDK_VALIDATION ?? 'unset'));
`;

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'thingcert-synth-test-'));
  mkdirSync(join(root, 'apps', 'infra', 'dist'), { recursive: true });
  writeFileSync(join(root, 'apps', 'infra', 'dist', 'main.js'), FAKE_APP);
  writeFileSync(
    join(root, 'apps', 'infra', 'cdk.json'),
    JSON.stringify({
      app: 'node dist/main.js',
      context: { '@aws-cdk/core:someFlag': true, topic: 'from/cdk-json', messageCount: 5 },
    }),
  );
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const contextSeen = (outdir: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(outdir, 'context.json'), 'utf8')) as Record<string, unknown>;

/** How many times the app ran since the last call. */
function appRuns(): number {
  const log = join(root, 'apps', 'infra', 'runs.log');
  if (!existsSync(log)) return 0;
  const runs = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  rmSync(log);
  return runs;
}

describe('synthesize', () => {
  it("hands the app cdk.json's context (feature flags) with the run's context on top", () => {
    const outdir = join(root, 'out');

    synthesize({ workspaceRoot: root, outdir, context: { topic: 'run/topic', noLookup: true } });

    expect(contextSeen(outdir)).toEqual({
      '@aws-cdk/core:someFlag': true,
      topic: 'run/topic',
      messageCount: 5,
      noLookup: true,
    });
  });

  it('answers a missing latest-Amazon-Linux lookup with a fixed image id and synthesizes again', () => {
    const outdir = join(root, 'out');

    synthesize({ workspaceRoot: root, outdir, context: { rotationToken: 'r1' } });

    const context = contextSeen(outdir);
    expect(context[AMI_KEY]).toBe(LOCAL_AMI_ID);
    expect(context.rotationToken).toBe('r1');
    expect(context['@aws-cdk/core:someFlag']).toBe(true);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as object;
    expect(manifest).not.toHaveProperty('missing');
  });

  it('keeps its answers outside the app, so the next synth runs the app once', () => {
    synthesize({ workspaceRoot: root, outdir: join(root, 'out-1') });
    expect(appRuns()).toBe(2);

    synthesize({ workspaceRoot: root, outdir: join(root, 'out-2'), context: { topic: 'again' } });

    expect(appRuns()).toBe(1);
    expect(contextSeen(join(root, 'out-2'))[AMI_KEY]).toBe(LOCAL_AMI_ID);
    expect(JSON.parse(readFileSync(localLookupsPath(root), 'utf8'))).toEqual({
      [AMI_KEY]: LOCAL_AMI_ID,
    });
    // The app's own cdk.context.json (what a deploy to AWS pins) never gets the local id.
    expect(() => readFileSync(join(root, 'apps', 'infra', 'cdk.context.json'))).toThrow();
  });

  it('answers again when the kept answers are unreadable', () => {
    mkdirSync(join(root, 'node_modules', '.cache', 'thingcert'), { recursive: true });
    writeFileSync(localLookupsPath(root), '{ half a fi');

    synthesize({ workspaceRoot: root, outdir: join(root, 'out') });

    expect(appRuns()).toBe(2);
    expect(contextSeen(join(root, 'out'))[AMI_KEY]).toBe(LOCAL_AMI_ID);
  });

  it('takes a value pinned in cdk.context.json over a kept local answer', () => {
    synthesize({ workspaceRoot: root, outdir: join(root, 'out-1') });
    writeFileSync(
      join(root, 'apps', 'infra', 'cdk.context.json'),
      JSON.stringify({ [AMI_KEY]: 'ami-0bbbbbbbbbbbbbbbb' }),
    );

    synthesize({ workspaceRoot: root, outdir: join(root, 'out-2') });

    expect(contextSeen(join(root, 'out-2'))[AMI_KEY]).toBe('ami-0bbbbbbbbbbbbbbbb');
  });

  it("keeps the CDK's template validation on unless told (validate: false sets CDK_VALIDATION=false)", () => {
    const validation = (outdir: string): unknown =>
      JSON.parse(readFileSync(join(outdir, 'validation.json'), 'utf8'));
    synthesize({ workspaceRoot: root, outdir: join(root, 'on') });
    synthesize({ workspaceRoot: root, outdir: join(root, 'off'), validate: false });

    expect(validation(join(root, 'on'))).toBe('unset');
    expect(validation(join(root, 'off'))).toBe('false');
  });

  it('takes cached lookups from cdk.context.json, as the CLI does', () => {
    writeFileSync(
      join(root, 'apps', 'infra', 'cdk.context.json'),
      JSON.stringify({ [AMI_KEY]: 'ami-0aaaaaaaaaaaaaaaa' }),
    );
    const outdir = join(root, 'out');

    synthesize({ workspaceRoot: root, outdir });

    expect(contextSeen(outdir)[AMI_KEY]).toBe('ami-0aaaaaaaaaaaaaaaa');
  });
});

describe('localLookupValues', () => {
  it('refuses a lookup it cannot answer, naming it', () => {
    expect(() =>
      localLookupValues([{ key: 'vpc-provider:account=1:filter.isDefault=true:region=us-east-1' }]),
    ).toThrow(/cannot answer: vpc-provider:account=1/);
  });

  it('answers both architectures of the AL2023 parameter', () => {
    const x86 = AMI_KEY.replace('arm64', 'x86_64');
    expect(localLookupValues([{ key: AMI_KEY }, { key: x86 }])).toEqual({
      [AMI_KEY]: LOCAL_AMI_ID,
      [x86]: LOCAL_AMI_ID,
    });
  });
});
