import { existsSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { fakeBundles, newApp, newStack, removeStackFixtures, templateOf } from './stack-fixture';

describe('Function: removeStackFixtures', () => {
  it('removes the bundle stand-ins and the cloud assembly of every app the file synthesized', () => {
    const { runnerBundleDirectory } = fakeBundles();
    const { app, stack } = newStack();
    templateOf(stack);
    const other = newApp();
    other.synth();
    // An app made without the fixture gets a CDK temp directory of its own.
    const plain = new App();
    plain.synth();
    const written = [runnerBundleDirectory, app.outdir, other.outdir, plain.outdir];
    expect(written.map((path) => existsSync(path))).toEqual([true, true, true, true]);

    removeStackFixtures();

    expect(written.map((path) => existsSync(path))).toEqual([false, false, false, false]);
  });
});
