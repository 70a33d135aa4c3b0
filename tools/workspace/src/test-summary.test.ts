import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectReports, failedTasks, summarize } from './test-summary.mjs';

describe('test summary', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'thingcert-test-summary-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('sums passed and failed tests over every project report, counting broken suites as failures', () => {
    const write = (project: string, report: object) => {
      mkdirSync(join(root, project, 'reports'), { recursive: true });
      writeFileSync(join(root, project, 'reports', 'vitest.json'), JSON.stringify(report));
    };
    write('packages/a', {
      numPassedTests: 3,
      numFailedTests: 1,
      testResults: [{ status: 'failed', assertionResults: [{ status: 'failed' }] }],
    });
    write('tools/b', {
      numPassedTests: 2,
      numFailedTests: 0,
      testResults: [{ status: 'failed', assertionResults: [] }],
    });
    mkdirSync(join(root, 'apps', 'no-report'), { recursive: true });

    const totals = summarize(collectReports(root)) as { passed: number; failed: number };

    expect(totals.passed).toBe(5);
    expect(totals.failed).toBe(2);
  });
});

describe('failedTasks', () => {
  // The tail of a real `nx run-many --outputStyle=static` (Nx 23) whose csr:typecheck failed.
  const esc = '\u001b';
  const failedRun = [
    `${esc}[2m> ${esc}[22m${esc}[2mnx run${esc}[22m csr:typecheck`,
    '',
    `Found 1 error in src/der.ts${esc}[90m:77${esc}[0m`,
    '',
    `${esc}[7m${esc}[1m${esc}[31m NX ${esc}[39m${esc}[22m${esc}[27m  ${esc}[31mRunning target ${esc}[1mtypecheck${esc}[22m for 2 projects failed${esc}[39m`,
    '',
    `${esc}[2mTasks stopped before they finished:${esc}[22m`,
    '',
    `${esc}[2m-${esc}[22m local-deploy:test`,
    '',
    `${esc}[2mFailed tasks:${esc}[22m`,
    '',
    `${esc}[2m-${esc}[22m csr:typecheck`,
    `${esc}[2m-${esc}[22m workspace:format-check`,
    '',
    '  Run duration:      2.3s',
    '  - not a task: the list ended at the line above',
  ].join('\n');

  it('names the failed and stopped tasks of an Nx summary, colours stripped', () => {
    expect(failedTasks(failedRun)).toEqual([
      'local-deploy:test',
      'csr:typecheck',
      'workspace:format-check',
    ]);
  });

  it('names none for a run that succeeded', () => {
    expect(
      failedTasks(' NX   Successfully ran target test for 3 projects\n\n- not: a-list\n'),
    ).toEqual([]);
  });
});
