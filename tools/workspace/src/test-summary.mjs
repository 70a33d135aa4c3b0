import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const GROUPS = ['packages', 'apps', 'tools'];

/**
 * Reads `reports/vitest.json` of every project under packages/, apps/, tools/.
 * @param {string} root workspace root
 * @returns {{project: string, report: any}[]}
 */
export function collectReports(root) {
  return collectReports.projectDirs(root).flatMap((dir) => {
    const file = join(dir, 'reports', 'vitest.json');
    if (!existsSync(file)) return [];
    return [{ project: relative(root, dir), report: JSON.parse(readFileSync(file, 'utf8')) }];
  });
}

/** @param {string} root */
collectReports.projectDirs = (root) =>
  GROUPS.flatMap((group) => {
    const base = join(root, group);
    if (!existsSync(base)) return [];
    return readdirSync(base, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(base, entry.name));
  });

/**
 * Sums vitest JSON reports. Skipped and todo tests count as neither passed nor failed.
 * @param {{project: string, report: any}[]} reports
 */
export function summarize(reports) {
  let passed = 0;
  let failed = 0;
  const details = [];
  for (const { project, report } of reports) {
    const p = Number(report.numPassedTests ?? 0);
    // A suite that failed to load has no failed tests but is a failure.
    const brokenFiles = (report.testResults ?? []).filter(
      (file) =>
        file.status === 'failed' &&
        !(file.assertionResults ?? []).some((test) => test.status === 'failed'),
    ).length;
    const f = Number(report.numFailedTests ?? 0) + brokenFiles;
    passed += p;
    failed += f;
    details.push(`  ${project}: ${p} passed, ${f} failed`);
  }
  return { passed, failed, details };
}
