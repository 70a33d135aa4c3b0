import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_AMI_ID, localLookupValues, synthesize } from './synthesize';

const AMI_KEY =
  'ssm:account=000000000000:parameterName=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64:region=us-east-1';

// A stand-in for the built infra app: it records the context it was given
// and, like a CDK app with a lookup, reports the AMI key missing until the
// context holds it.
const FAKE_APP = `
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
const context = JSON.parse(process.env.CDK_CONTEXT_JSON);
const outdir = process.env.CDK_OUTDIR;
mkdirSync(outdir, { recursive: true });
const missing = context[${JSON.stringify(AMI_KEY)}] === undefined && !context.noLookup
  ? [{ key: ${JSON.stringify(AMI_KEY)}, provider: 'ssm', props: {} }] : undefined;
writeFileSync(join(outdir, 'manifest.json'), JSON.stringify({ version: '1', artifacts: {}, ...(missing ? { missing } : {}) }));
writeFileSync(join(outdir, 'context.json'), JSON.stringify(context));
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
