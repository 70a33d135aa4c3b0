// Debian packages some tests need (mosquitto: the MQTT 5 broker for device
// tests). Installed on demand so `pnpm test` works on a fresh machine that has
// only Node.js and npm, as the README promises.
import { spawnSync } from 'node:child_process';

/** Debian package name → command it provides. */
export const SYSTEM_PACKAGES = { mosquitto: 'mosquitto' };

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Installs missing packages with apt-get (as root, or through sudo). Returns what is still missing. */
export function ensureSystemPackages(packages = SYSTEM_PACKAGES) {
  const missing = Object.entries(packages)
    .filter(([, command]) => !has(command) && !has(`/usr/sbin/${command}`))
    .map(([name]) => name);
  if (missing.length === 0) return [];
  if (!has('apt-get')) {
    console.warn(
      `missing ${missing.join(', ')} and no apt-get: install them with your package manager`,
    );
    return missing;
  }
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  console.log(`installing Debian packages: ${missing.join(', ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => {
    const [command, ...rest] = [...sudo, ...args];
    spawnSync(command, rest, { stdio: 'inherit', env });
  };
  run(['apt-get', 'update', '-qq']);
  run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
  return missing.filter((name) => !has(packages[name]) && !has(`/usr/sbin/${packages[name]}`));
}
