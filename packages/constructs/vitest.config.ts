import { defineConfig } from 'vitest/config';
import { testConfig } from '../../tools/build/vitest-preset';

// Every file loads aws-cdk-lib (seconds of module loading); sharing the module
// cache between files in a worker pays that once per worker. The tests share
// no global state: each builds its own App. The setup file removes the temp
// directories the stack fixtures made for each file.
export default defineConfig(
  testConfig({ isolate: false, setupFiles: ['test/remove-stack-fixtures.ts'] }),
);
