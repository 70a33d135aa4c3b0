import {
  DeleteCertificateCommand,
  DeleteThingCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ListThingPrincipalsCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { awsError, instantSleep } from '../test/fake-aws';
import { deregisterFleetThing } from './deregister-fleet-thing';
import { isFleetDeregistrationError } from './errors';

const CERT_ID = 'a'.repeat(64);
const CERT_ARN = `arn:aws:iot:us-east-1:000000000000:cert/${CERT_ID}`;

function mocked() {
  const iot = mockClient(IoTClient);
  iot.on(DetachThingPrincipalCommand).resolves({});
  iot.on(UpdateCertificateCommand).resolves({});
  iot.on(DeleteCertificateCommand).resolves({});
  iot.on(DeleteThingCommand).resolves({});
  return iot;
}

async function failureOf(work: Promise<unknown>): Promise<Error & { step?: string }> {
  try {
    await work;
  } catch (error) {
    expect(isFleetDeregistrationError(error)).toBe(true);
    return error as Error & { step?: string };
  }
  throw new Error('expected a failure');
}

describe('Function: deregisterFleetThing', () => {
  it('waits for the asynchronous detachment before deleting the certificate', async () => {
    const iot = mocked();
    iot
      .on(ListThingPrincipalsCommand)
      .resolvesOnce({ principals: [CERT_ARN] })
      .resolvesOnce({ principals: [CERT_ARN] })
      .resolves({ principals: [] });
    const { sleep, delays } = instantSleep();

    const result = await deregisterFleetThing('fleet-i-1', { iot: iot as never, sleep });

    expect(result).toEqual({
      thingName: 'fleet-i-1',
      certificateIds: [CERT_ID],
      thingDeleted: true,
    });
    expect(delays).toEqual([250]);
    expect(iot.commandCalls(UpdateCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: CERT_ID,
      newStatus: 'INACTIVE',
    });
    expect(iot.commandCalls(DeleteCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: CERT_ID,
      forceDelete: true,
    });
  });

  it('fails at waitForDetachment when the principal stays attached past the bound', async () => {
    const iot = mocked();
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT_ARN] });
    const { sleep } = instantSleep();

    const error = await failureOf(
      deregisterFleetThing('fleet-i-1', { iot: iot as never, sleep, detachTimeoutMs: 1000 }),
    );

    expect(error.step).toBe('waitForDetachment');
    expect(iot.commandCalls(DeleteCertificateCommand)).toHaveLength(0);
  });

  it('names the step of a service failure and tolerates what is already gone', async () => {
    const iot = mocked();
    iot
      .on(ListThingPrincipalsCommand)
      .resolvesOnce({ principals: [CERT_ARN] })
      .resolves({});
    iot.on(UpdateCertificateCommand).rejects(awsError('ResourceNotFoundException', 404));
    iot.on(DeleteCertificateCommand).rejects(awsError('InternalFailureException', 500));

    const error = await failureOf(deregisterFleetThing('fleet-i-1', { iot: iot as never }));

    expect(error.step).toBe('deleteCertificate');
    expect(error.message).toContain('InternalFailureException');
  });

  it('reports a thing that no longer exists as not deleted, without other calls', async () => {
    const iot = mocked();
    iot.on(ListThingPrincipalsCommand).rejects(awsError('ResourceNotFoundException', 404));

    const result = await deregisterFleetThing('fleet-i-1', { iot: iot as never });

    expect(result.thingDeleted).toBe(false);
    expect(iot.calls()).toHaveLength(1);
  });
});
