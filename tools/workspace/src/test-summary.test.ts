import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectReports, summarize } from './test-summary.mjs';

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
