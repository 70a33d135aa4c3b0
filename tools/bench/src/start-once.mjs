// `pnpm start --once` with IAM enforced (each process its role's session over
// HTTPS, every request authenticated and evaluated) beside the same run with
// --no-iam (every process the admin over HTTP, IAM ids only): what enforcing
// IAM costs the main job, for the local-cloud section.
import { join } from 'node:path';
import { timeProcessOk } from './measure.mjs';
import { row } from './rows.mjs';
import { summarize } from './stats.mjs';

/** The line the CLI prints when the stack is created: the deploy part of the run. */
const CREATED = /\] Thingcert CREATE_COMPLETE/;

/**
 * Rows for `pnpm start --once` (the built CLI, a fresh local cloud each run),
 * the modes interleaved so that load on a shared machine falls on both alike.
 * @returns {Promise<ReturnType<typeof row>[]>}
 */
export async function startOnceRows(ctx) {
  const cli = join(ctx.root, 'tools', 'local-deploy', 'dist', 'cli.js');
  const runs = ctx.quick ? 1 : 3;
  const samples = { enforced: { deploy: [], run: [] }, 'no-iam': { deploy: [], run: [] } };
  for (let r = 0; r < runs; r++) {
    for (const mode of Object.keys(samples)) {
      ctx.log(`  pnpm start --once${mode === 'no-iam' ? ' --no-iam' : ''} (${r + 1}/${runs})`);
      const out = await timeProcessOk(
        process.execPath,
        [cli, '--once', ...(mode === 'no-iam' ? ['--no-iam'] : [])],
        { readyWhen: (recent) => CREATED.test(recent), timeoutMs: 300_000 },
      );
      if (out.readyMs === undefined) throw new Error(`pnpm start --once never printed ${CREATED}`);
      samples[mode].deploy.push(out.readyMs);
      samples[mode].run.push(out.wallMs);
    }
  }
  const rowsFor = (what, key) => {
    const base = row(
      `pnpm start --once --no-iam: ${what}`,
      summarize(samples['no-iam'][key]),
      'ms',
    );
    return [
      row(
        `pnpm start --once (IAM enforced): ${what}`,
        summarize(samples.enforced[key]),
        'ms',
        base,
      ),
      base,
    ];
  };
  return [
    ...rowsFor('start → stack CREATE_COMPLETE (synth, local cloud, deploy)', 'deploy'),
    ...rowsFor('whole run (5 messages, teardown)', 'run'),
  ];
}
