// 1. Lambda cold init: a fresh process that imports the handler and builds its
// clients, bundled vs from node_modules vs Python boto3 (the seed's runtime).
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSdkExternal } from './lambda-sdk-external.mjs';
import { repeat, timeProcessOk } from './measure.mjs';
import { row, section } from './rows.mjs';

const PYTHON_INIT =
  "import boto3; boto3.client('iot', region_name='us-east-1'); boto3.client('s3', region_name='us-east-1')";

function importScript(path, body) {
  return `const m = await import(${JSON.stringify(path)}); ${body}`;
}

/** The Python whose boto3 to time: Debian's (installed when allowed), else any with boto3. */
function findPython(ctx, result) {
  const has = (python) =>
    spawnSync(python, ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
  if (has('/usr/bin/python3')) return '/usr/bin/python3';
  if (!ctx.quick && ctx.allowApt) {
    ctx.log('installing python3-boto3 (apt-get)');
    ctx.aptInstall(['python3-boto3']);
    if (has('/usr/bin/python3')) return '/usr/bin/python3';
  }
  if (has('python3')) {
    result.notes.push('Python boto3 is not Debian\u2019s python3-boto3 but the one on PATH.');
    return 'python3';
  }
  result.skipped.push('Python boto3: no python3 with boto3 (full run installs python3-boto3)');
  return undefined;
}

export async function lambdaColdInit(ctx) {
  const result = section(
    'lambda',
    'Lambda cold init (fresh process: import handler + build clients)',
  );
  const bundle = join(ctx.root, 'packages/cert-provisioner/dist/lambda/index.mjs');
  const library = join(ctx.root, 'packages/cert-provisioner/dist/index.js');
  const external = await buildSdkExternal(ctx.root, join(ctx.tmp, 'lambda-sdk-external'));
  const env = { AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const node = (script) => () =>
    timeProcessOk(process.execPath, ['--input-type=module', '-e', script], { env }).then((r) => ({
      wallMs: r.wallMs,
      maxRssMiB: r.maxRssKiB === undefined ? undefined : r.maxRssKiB / 1024,
    }));
  const handlerCheck = "if (typeof m.handler !== 'function') process.exit(2);";
  const variants = [
    ['node, empty script (floor)', node('')],
    [
      'unbundled: dist/index.js + SDK from node_modules',
      node(
        importScript(
          library,
          "const h = m.createCertificateResourceHandler(m.createAwsClients()); if (typeof h !== 'function') process.exit(2);",
        ),
      ),
    ],
    [
      'bundled, SDK inside (shipped dist/lambda/index.mjs)',
      node(importScript(bundle, handlerCheck)),
    ],
    ['bundled, SDK external (node_modules)', node(importScript(external, handlerCheck))],
  ];
  const python = findPython(ctx, result);
  if (python !== undefined) {
    const py = (code) => () =>
      timeProcessOk(python, ['-c', code]).then((r) => ({
        wallMs: r.wallMs,
        maxRssMiB: r.maxRssKiB === undefined ? undefined : r.maxRssKiB / 1024,
      }));
    variants.push(['python3, empty script (floor)', py('pass')]);
    variants.push([`python3 import boto3 + iot and s3 clients (${python})`, py(PYTHON_INIT)]);
  }
  const measured = [];
  for (const [name, once] of variants) {
    ctx.log(`  cold init: ${name}`);
    measured.push([name, await repeat(once, ctx.repeat)]);
  }
  const baselineName = variants[1][0];
  const baseline = row(baselineName, measured[1][1].wallMs, 'ms');
  for (const [name, metrics] of measured) {
    result.rows.push(
      row(
        `${name}: spawn → exit`,
        metrics.wallMs,
        'ms',
        name === baselineName ? undefined : baseline,
      ),
    );
  }
  const rssBaseline = row('unbundled peak RSS', measured[1][1].maxRssMiB, 'MiB');
  for (const [name, metrics] of measured) {
    if (metrics.maxRssMiB !== undefined && name !== baselineName) {
      result.rows.push(row(`${name}: peak RSS`, metrics.maxRssMiB, 'MiB', rssBaseline));
    }
  }
  if (measured[1][1].maxRssMiB !== undefined) result.rows.push(rssBaseline);
  result.notes.push(`Ratios against "${baselineName}" (the same code, not bundled).`);

  const bundled = readFileSync(bundle);
  const ext = readFileSync(external);
  const bundledRow = row('bundle size, SDK bundled (shipped)', bundled.length / 1024, 'KiB');
  result.rows.push(bundledRow);
  result.rows.push(row('bundle size, SDK external', ext.length / 1024, 'KiB', bundledRow));
  const bundledGz = row('gzipped, SDK bundled', gzipSync(bundled).length / 1024, 'KiB');
  result.rows.push(bundledGz);
  result.rows.push(row('gzipped, SDK external', gzipSync(ext).length / 1024, 'KiB', bundledGz));
  result.notes.push(
    `SDK external needs @aws-sdk/* at run time (Lambda's runtime copy, not pinned); bundled file ${statSync(bundle).size} bytes.`,
  );
  return result;
}
