import { describe, expect, it } from 'vitest';
import { askPreProvisioningHook, type LambdaInvoker } from './pre-provisioning-hook';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:hook';
const input = {
  claimCertificateId: 'claim',
  certificateId: 'cert',
  certificatePem: 'pem',
  templateArn: 'arn:aws:iot:us-east-1:000000000000:provisioningtemplate/t',
  clientId: 'device-1',
  parameters: { SerialNumber: '1' },
};

describe('Function: askPreProvisioningHook', () => {
  it('sends the documented payload and reads allowProvisioning and parameterOverrides', async () => {
    const calls: unknown[] = [];
    const invoker: LambdaInvoker = (arn, payload) => {
      calls.push([arn, payload]);
      return Promise.resolve({
        allowProvisioning: true,
        parameterOverrides: { Location: 'Seattle' },
      });
    };
    await expect(askPreProvisioningHook(invoker, ARN, input)).resolves.toEqual({
      allowProvisioning: true,
      parameterOverrides: { Location: 'Seattle' },
    });
    expect(calls).toEqual([[ARN, input]]);
  });

  it('allows only true or "true"; anything else denies', async () => {
    for (const [answer, allowed] of [
      [{ allowProvisioning: 'true' }, true],
      [{ allowProvisioning: false }, false],
      [{ allowProvisioning: 'yes' }, false],
      [{}, false],
    ] as const) {
      const decision = await askPreProvisioningHook(() => Promise.resolve(answer), ARN, input);
      expect(decision.allowProvisioning).toBe(allowed);
    }
  });

  it('fails when there is no invoker, the function throws, answers no object, or takes too long', async () => {
    await expect(askPreProvisioningHook(undefined, ARN, input)).rejects.toThrow(
      'no Lambda invoker',
    );
    await expect(
      askPreProvisioningHook(() => Promise.reject(new Error('boom')), ARN, input),
    ).rejects.toThrow(`${ARN} failed: boom`);
    await expect(askPreProvisioningHook(() => Promise.resolve('ok'), ARN, input)).rejects.toThrow(
      'not an object',
    );
    await expect(
      askPreProvisioningHook(
        () => Promise.resolve({ allowProvisioning: true, parameterOverrides: { a: 1 } }),
        ARN,
        input,
      ),
    ).rejects.toThrow('parameterOverrides.a must be a string');
    let aborted = false;
    const slow: LambdaInvoker = (_arn, _payload, { signal }) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = true;
          resolve({ allowProvisioning: true });
        });
      });
    await expect(askPreProvisioningHook(slow, ARN, input, 50)).rejects.toThrow(
      'did not answer within 50 ms',
    );
    expect(aborted).toBe(true);
  });
});
