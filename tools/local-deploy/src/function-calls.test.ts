import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inlineFunction } from '../test/inline-function';
import { testStackEnvironment } from '../test/stack-environment';
import { invokeAsynchronously, invokeForResult, type FunctionCallContext } from './function-calls';

// Functions as inline code in a temp directory, run by the built Lambda runtime (no network).
const dir = mkdtempSync(join(tmpdir(), 'thingcert-function-calls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A session of the function's execution role, as the deployer registers it (IAM enforced). */
const ROLE_SESSION = {
  AWS_ACCESS_KEY_ID: 'ASIAROLESESSION',
  AWS_SECRET_ACCESS_KEY: 'role-secret',
  AWS_SESSION_TOKEN: 'role-session-token',
};

function context(code: string, timeoutSeconds = 5) {
  const fn = inlineFunction(dir, code, { timeoutSeconds, credentials: ROLE_SESSION });
  const lines: string[] = [];
  const calls: FunctionCallContext = {
    stack: testStackEnvironment(lines, { assetDir: () => dir, metadataOf: () => ({}) }),
    functions: new Map([[fn.arn, fn]]),
    background: new Set(),
  };
  return { fn, calls, lines };
}

describe('Function: invokeForResult', () => {
  it("resolves with the handler's return value, parsed from its JSON", async () => {
    const { fn, calls } = context(
      'exports.handler = async (event) => ({ allowProvisioning: event.n > 1, echo: event });',
    );
    expect(await invokeForResult(calls, fn.arn, { n: 2 })).toEqual({
      allowProvisioning: true,
      echo: { n: 2 },
    });
  });

  it("runs the function with its execution role's session, not the admin's keys", async () => {
    const { fn, calls } = context(
      'exports.handler = async () => ({ key: process.env.AWS_ACCESS_KEY_ID, token: process.env.AWS_SESSION_TOKEN });',
    );
    // The base environment carries the admin's keys when IAM is not enforced; the role's win.
    const withAdminKeys = {
      ...calls,
      stack: {
        ...calls.stack,
        cloudEnv: { AWS_ACCESS_KEY_ID: 'admin', AWS_SECRET_ACCESS_KEY: 'x' },
      },
    };
    expect(await invokeForResult(withAdminKeys, fn.arn, {})).toEqual({
      key: ROLE_SESSION.AWS_ACCESS_KEY_ID,
      token: ROLE_SESSION.AWS_SESSION_TOKEN,
    });
  });

  it('rejects for a handler that throws, one over its Timeout, and an unknown function', async () => {
    const throwing = context("exports.handler = async () => { throw new Error('no'); };");
    const failure = invokeForResult(throwing.calls, throwing.fn.arn, {});
    await expect(failure).rejects.toThrow(/failed \(exit 1\)/);
    await expect(failure).rejects.toMatchObject({ name: 'FunctionInvocationError' });
    const slow = context(
      'exports.handler = () => new Promise(() => setInterval(() => {}, 1000));',
      1,
    );
    await expect(invokeForResult(slow.calls, slow.fn.arn, {})).rejects.toThrow(
      'Task timed out after 1 seconds',
    );
    await expect(
      invokeForResult(slow.calls, 'arn:aws:lambda:x:1:function:none', {}),
    ).rejects.toThrow(/not a deployed function/);
  });
});

describe('Function: invokeAsynchronously', () => {
  it('retries a failing function twice, as Lambda does for asynchronous invocations', async () => {
    const counter = join(dir, 'attempts.txt');
    const { fn, calls, lines } = context(
      `const { appendFileSync } = require('node:fs');
exports.handler = async () => { appendFileSync(${JSON.stringify(counter)}, 'x'); throw new Error('fail'); };`,
    );
    invokeAsynchronously(calls, fn.arn, { any: 'event' });
    expect(calls.background.size).toBe(1);
    await Promise.all([...calls.background]);
    expect(readFileSync(counter, 'utf8')).toBe('xxx');
    expect(lines.filter((line) => line.includes('on attempt'))).toHaveLength(3);
  });
});
