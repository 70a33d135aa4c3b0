/** What {@link runCdk} runs, in order; tests pass fakes. */
export interface RunCdkSteps {
  preflight(
    args: readonly string[],
  ): Promise<{ ok: true; summary: string } | { ok: false; message: string }>;
  /** Builds the app and what it bundles; returns the exit code. */
  build(): number;
  /** Runs the CDK CLI; returns its exit code. */
  cdk(args: readonly string[]): number;
  console: { log(line: string): void; error(line: string): void };
}

/**
 * Runs `cdk <command> <args>` after the preflight and the build; 1 when the
 * preflight fails (nothing built), else the build's or the CLI's exit code.
 */
export function runCdk(
  command: 'deploy' | 'diff' | 'destroy',
  args: readonly string[],
  steps: RunCdkSteps,
): Promise<number>;
