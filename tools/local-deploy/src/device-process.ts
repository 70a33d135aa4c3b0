import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** How a device run ended. */
export interface DeviceResult {
  readonly exitCode: number | null;
  readonly received: number | undefined;
  readonly expected: number | undefined;
  readonly error: string | undefined;
}

const running = new Set<ChildProcess>();
// Devices run in their own process group (so a terminal's Ctrl-C reaches the
// deployer only, which then stops them gracefully, once); make sure none
// outlives the deployer if it exits some other way.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * One "booted" EC2 instance: the device-runner bundle started as a process
 * with the configuration the instance's user data would write, and the local
 * cloud's endpoints in its environment.
 */
export class DeviceProcess {
  readonly name: string;
  private readonly child: ChildProcess;
  private received: number | undefined;
  private expected: number | undefined;
  private error: string | undefined;
  /** Resolves when the runner process exits. */
  readonly exited: Promise<DeviceResult>;

  constructor(options: {
    name: string;
    bundleDir: string;
    config: Record<string, unknown>;
    env: Readonly<Record<string, string>>;
    onLine: (line: string) => void;
  }) {
    this.name = options.name;
    const dir = mkdtempSync(join(tmpdir(), 'thingcert-device-'));
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
    running.add(this.child);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.observe(line);
        options.onLine(line);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        running.delete(this.child);
        this.error = `could not start the device runner: ${error.message}`;
        resolve({ exitCode: null, received: undefined, expected: undefined, error: this.error });
      });
      this.child.on('close', (exitCode) => {
        running.delete(this.child);
        resolve({ exitCode, received: this.received, expected: this.expected, error: this.error });
      });
    });
  }

  private observe(line: string): void {
    let event: { event?: string; received?: number; expected?: number; message?: string };
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
