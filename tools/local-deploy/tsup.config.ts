import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

// A private tool run through its bin (`pnpm start`) and the Lambda runtime
// script; nothing imports its types, so it emits no declarations (they were
// most of its build time, on the critical path of every `nx affected` run).
export default defineConfig(
  libraryBuild({ entry: ['src/index.ts', 'src/cli.ts', 'src/lambda-runtime.ts'], dts: false }),
);
