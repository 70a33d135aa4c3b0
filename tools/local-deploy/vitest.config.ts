import { defineConfig } from 'vitest/config';
import { testConfig } from '../../tools/build/vitest-preset.ts';

// The integration files spend much of their time waiting on child processes
// (the Lambda runtime, device runners, pnpm start) and run last in an
// `nx affected` run: one worker per core instead of vitest's cores - 1 lets
// the two long files overlap.
export default defineConfig(testConfig({ testTimeout: 120_000, maxWorkers: '100%' }));
