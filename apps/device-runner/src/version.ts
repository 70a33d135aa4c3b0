import packageJson from '../package.json' with { type: 'json' };

/**
 * The runner's version, from its package.json. The import is inlined by the
 * build, so `dist/cli.js` and the self-contained `dist/bundle/device-runner.mjs`
 * both answer `--version` without a package.json next to them.
 */
export const VERSION: string = packageJson.version;
