import type { ViteUserConfig } from 'vitest/config';

/**
 * Shared vitest settings. Every project writes a JSON report to
 * `reports/vitest.json` (a declared Nx output, so cached runs restore it) and
 * the workspace test runner sums those into one `N passed, N failed` line.
 */
export function testConfig(overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  return {
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      reporters: ['default', 'json'],
      outputFile: { json: 'reports/vitest.json' },
      // Generous ceilings for one-off cold starts on 2 shared, oversubscribed
      // cores: the first module-boundaries lint (ESLint config + Nx graph, ~3 s
      // of CPU) and the local-stack CDK synth (~8 s of CPU) ran past 20 s / 30 s
      // at load 12-40, before and after the Node 22 move alike. Only how long a
      // hung test takes to fail changes; no assertion does.
      testTimeout: 60_000,
      hookTimeout: 120_000,
      // expect.poll waits for background work (cleanup after a deadline, a
      // late publish): the 1 s default ran out on 2 loaded CI cores.
      expect: { poll: { timeout: 10_000 } },
      ...overrides,
    },
  };
}
