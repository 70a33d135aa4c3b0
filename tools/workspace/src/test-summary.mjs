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

/** The headings of Nx's run summary that list tasks which did not succeed. */
const UNSUCCESSFUL_TASK_HEADINGS = ['Failed tasks:', 'Tasks stopped before they finished:'];

/**
 * The ids (`project:target`) of the tasks an `nx run-many` summary lists as
 * failed or stopped, in order, from its printed output (colours included).
 * @param {string} output what `nx run-many --outputStyle=static` printed
 * @returns {string[]}
 */
export function failedTasks(output) {
  const ids = [];
  let listing = false;
  // eslint-disable-next-line no-control-regex -- ANSI colour codes are what is stripped
  for (const line of output.replace(/\u001b\[[0-9;]*m/g, '').split(/\r?\n/)) {
    const text = line.trim();
    if (UNSUCCESSFUL_TASK_HEADINGS.includes(text)) listing = true;
    else if (listing && text.startsWith('- ')) ids.push(text.slice(2).trim());
    else if (text !== '') listing = false;
  }
  return ids;
}
