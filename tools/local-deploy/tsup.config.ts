import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tools/build/tsup-preset';

export default defineConfig(
  libraryBuild({ entry: ['src/index.ts', 'src/cli.ts', 'src/lambda-runtime.ts'] }),
);
