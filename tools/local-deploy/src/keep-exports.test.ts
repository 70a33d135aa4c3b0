import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { keepExports } from './keep-exports';

const admin = {
  prefix: 'THINGCERT_ADMIN',
  description: 'the admin identity',
  credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'admin-secret' },
};
const device = {
  prefix: 'THINGCERT_DEVICE_1',
  description: 'device thingcert-device-1 (role Device-Role)',
  credentials: {
    accessKeyId: 'ASIAAAAAAAAAAAAAAAAA',
    secretAccessKey: 'se/cr+et=',
    sessionToken: "to'ken+/=",
  },
};

describe('Function: keepExports', () => {
  it('prints the environment, then each identity under its prefix, then how to act as one', () => {
    const lines = keepExports({ AWS_REGION: 'us-east-1' }, [admin, device]);

    expect(lines).toEqual([
      'export AWS_REGION=us-east-1',
      '# the admin identity',
      'export THINGCERT_ADMIN_AWS_ACCESS_KEY_ID=AKIALOCAL',
      'export THINGCERT_ADMIN_AWS_SECRET_ACCESS_KEY=admin-secret',
      '# device thingcert-device-1 (role Device-Role)',
      'export THINGCERT_DEVICE_1_AWS_ACCESS_KEY_ID=ASIAAAAAAAAAAAAAAAAA',
      'export THINGCERT_DEVICE_1_AWS_SECRET_ACCESS_KEY=se/cr+et=',
      `export THINGCERT_DEVICE_1_AWS_SESSION_TOKEN='to'\\''ken+/='`,
      '# act as one of them, e.g.: AWS_ACCESS_KEY_ID=$THINGCERT_DEVICE_1_AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$THINGCERT_DEVICE_1_AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN=$THINGCERT_DEVICE_1_AWS_SESSION_TOKEN aws s3 ls',
    ]);
  });

  it('prints lines a POSIX shell evaluates back to the same values', () => {
    const script = [
      ...keepExports({}, [device]),
      'printf %s "$THINGCERT_DEVICE_1_AWS_SESSION_TOKEN"',
    ].join('\n');

    expect(execFileSync('sh', ['-c', script], { encoding: 'utf8' })).toBe("to'ken+/=");
  });
});
