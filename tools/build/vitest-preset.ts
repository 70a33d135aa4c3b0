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
      testTimeout: 20_000,
      hookTimeout: 30_000,
      // expect.poll waits for background work (cleanup after a deadline, a
      // late publish): the 1 s default ran out on 2 loaded CI cores.
      expect: { poll: { timeout: 10_000 } },
      ...overrides,
    },
  };
}
