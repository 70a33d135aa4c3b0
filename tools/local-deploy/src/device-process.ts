import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** How a device run ended. */
export interface DeviceResult {
  readonly exitCode: number | null;
  readonly received: number | undefined;
  readonly expected: number | undefined;
  readonly error: string | undefined;
  /** The thing a device provisioning by claim registered as (its `registered` event). */
  readonly registeredAs?: string;
}

/** Removes a device directory; retries cover a runner killed while it was still writing. */
function removeDirectory(directory: string): void {
  rmSync(directory, { recursive: true, force: true, maxRetries: 3 });
}

/** Runner processes still alive, with the directory holding their credentials. */
const running = new Map<ChildProcess, string>();
// Devices run in their own process group (so a terminal's Ctrl-C reaches the
// deployer only, which then stops them gracefully, once); make sure none
// outlives the deployer if it exits some other way, and that its private key
// does not outlive it on disk either.
process.once('exit', () => {
  for (const [child, directory] of running) {
    child.kill('SIGKILL');
    try {
      removeDirectory(directory);
    } catch {
      // Nothing left to report to while the process exits.
    }
  }
});

/**
 * One "booted" EC2 instance: the device-runner bundle started as a process
 * with the configuration the instance's user data would write, and the local
 * cloud's endpoints in its environment.
 *
 * The instance's disk is a fresh 0700 temp directory holding the runner's
 * configuration (0600), its `HOME` and the `credentials` directory the runner
 * writes its certificate and private key into. It is removed as soon as the
 * runner process has exited, before {@link DeviceProcess.exited} resolves.
 */
export class DeviceProcess {
  readonly name: string;
  /**
   * The device's temp directory (configuration, `HOME` and `credentials/`
   * with the private key). It exists while the runner runs and is gone once
   * {@link DeviceProcess.exited} has resolved; read-only, for logs and for
   * tests that check nothing is left behind.
   */
  readonly directory: string;
  private readonly child: ChildProcess;
  private received: number | undefined;
  private expected: number | undefined;
  private error: string | undefined;
  private registeredAs: string | undefined;
  /** Resolves when the runner process has exited and its directory has been removed. */
  readonly exited: Promise<DeviceResult>;

  constructor(options: {
    name: string;
    bundleDir: string;
    /**
     * The runner's configuration file, written as JSON: a `DeviceRunnerConfig`
     * for the real runner (the tests' stand-in runner reads keys of its own).
     */
    config: object;
    env: Readonly<Record<string, string>>;
    onLine: (line: string) => void;
  }) {
    this.name = options.name;
    this.directory = mkdtempSync(join(tmpdir(), 'thingcert-device-'));
    const dir = this.directory;
    try {
      chmodSync(dir, 0o700);
      const configPath = join(dir, 'device-runner.json');
      writeFileSync(configPath, JSON.stringify(options.config, null, 2), { mode: 0o600 });
      const credentialsDir = join(dir, 'credentials');
      mkdirSync(credentialsDir, { mode: 0o700 });
      this.child = spawn(
        process.execPath,
        [
          join(options.bundleDir, 'device-runner.mjs'),
          'run',
          '--config',
          configPath,
          '--json',
          '--credentials-dir',
          credentialsDir,
        ],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: dir,
            ...options.env,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
    } catch (error) {
      removeDirectory(dir);
      throw error;
    }
    running.set(this.child, dir);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.observe(line);
        options.onLine(line);
      });
    }
    this.exited = new Promise((resolve) => {
      // 'close' comes after every output line was read; 'error' (the runner
      // could not be started) may come without a 'close' after it. Either
      // way the runner no longer runs: its credentials go with it.
      const finish = (exitCode: number | null): void => {
        if (!running.delete(this.child)) return;
        try {
          removeDirectory(dir);
        } catch (error) {
          options.onLine(
            `could not remove the device directory ${dir}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        resolve({
          exitCode,
          received: this.received,
          expected: this.expected,
          error: this.error,
          ...(this.registeredAs === undefined ? {} : { registeredAs: this.registeredAs }),
        });
      };
      this.child.on('error', (error) => {
        this.error = `could not start the device runner: ${error.message}`;
        finish(null);
      });
      this.child.on('close', finish);
    });
  }

  private observe(line: string): void {
    let event: {
      event?: string;
      received?: number;
      expected?: number;
      message?: string;
      thingName?: string;
    };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    if (event.event === 'done') {
      this.received = event.received;
      this.expected = event.expected;
    }
    if (event.event === 'error' && typeof event.message === 'string') this.error = event.message;
    if (event.event === 'registered' && typeof event.thingName === 'string')
      this.registeredAs = event.thingName;
  }

  /** Graceful stop (SIGTERM, as systemd would), then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<DeviceResult> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}
