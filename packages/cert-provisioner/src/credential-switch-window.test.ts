import { CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE } from '@thingcert/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger, instantSleep } from '../test/fake-aws';
import { answer, closeRecorders, recorder, STACK_ID } from '../test/handler-harness';
import {
  createCredentialSwitchWindowHandler,
  isCredentialSwitchWindowEvent,
} from './credential-switch-window';

afterEach(closeRecorders);

const OLD_ID = 'a'.repeat(64);
const NEW_ID = 'b'.repeat(64);

function windowEvent(
  responseUrl: string,
  requestType: 'Create' | 'Update' | 'Delete',
  props: Record<string, unknown>,
  oldProps?: Record<string, unknown>,
) {
  return {
    RequestType: requestType,
    ResponseURL: responseUrl,
    StackId: STACK_ID,
    RequestId: `req-${requestType}`,
    ResourceType: CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE,
    LogicalResourceId: 'DeviceSwitchWindow',
    ...(requestType === 'Create' ? {} : { PhysicalResourceId: 'switch-window-DeviceSwitchWindow' }),
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:1:function:p', ...props },
    ...(oldProps === undefined ? {} : { OldResourceProperties: oldProps }),
  };
}

function setup() {
  const { sleep, delays } = instantSleep();
  const log = captureLogger();
  const handler = createCredentialSwitchWindowHandler({ sleep, logger: log.logger });
  return { handler, delays, log };
}

describe('credential switch window', () => {
  it('recognises its own events only', () => {
    expect(
      isCredentialSwitchWindowEvent({ ResourceType: CREDENTIAL_SWITCH_WINDOW_RESOURCE_TYPE }),
    ).toBe(true);
    expect(
      isCredentialSwitchWindowEvent({ ResourceType: 'Custom::ThingcertDeviceCertificate' }),
    ).toBe(false);
    expect(isCredentialSwitchWindowEvent(null)).toBe(false);
  });

  it('holds an Update that names another certificate open for WaitSeconds, then answers SUCCESS with the same id', async () => {
    const { handler, delays } = setup();
    const rec = await recorder();
    const context = { getRemainingTimeInMillis: () => 300_000 };

    await handler(
      windowEvent(
        rec.url,
        'Update',
        { CertificateId: NEW_ID, WaitSeconds: '33' },
        {
          CertificateId: OLD_ID,
          WaitSeconds: '33',
        },
      ),
      context,
    );

    expect(delays).toEqual([33_000]);
    expect(await answer(rec)).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'switch-window-DeviceSwitchWindow',
    });
  });

  it('answers Create, Delete and an Update with the same certificate at once', async () => {
    const { handler, delays } = setup();
    const rec = await recorder();
    const props = { CertificateId: NEW_ID, WaitSeconds: 33 };

    await handler(windowEvent(rec.url, 'Create', props));
    await handler(windowEvent(rec.url, 'Update', { ...props, WaitSeconds: 10 }, props));
    await handler(windowEvent(rec.url, 'Delete', props));

    expect(delays).toEqual([]);
    const answers = await rec.waitForAccepted(3);
    expect(answers.map((a) => (a.json as { Status: string }).Status)).toEqual([
      'SUCCESS',
      'SUCCESS',
      'SUCCESS',
    ]);
  });

  it('closes the window before the Lambda deadline', async () => {
    const { handler, delays } = setup();
    const rec = await recorder();

    await handler(
      windowEvent(
        rec.url,
        'Update',
        { CertificateId: NEW_ID, WaitSeconds: 40 },
        {
          CertificateId: OLD_ID,
          WaitSeconds: 40,
        },
      ),
      { getRemainingTimeInMillis: () => 25_000 },
    );

    expect(delays).toEqual([15_000]);
    expect((await answer(rec)).Status).toBe('SUCCESS');
  });

  it('answers FAILED with a one-line reason naming a bad property', async () => {
    const { handler } = setup();
    const rec = await recorder();

    await handler(windowEvent(rec.url, 'Create', { CertificateId: NEW_ID, WaitSeconds: '600' }));

    const response = await answer(rec);
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/WaitSeconds/);
    expect(response.Reason).not.toContain('\n');
  });
});
