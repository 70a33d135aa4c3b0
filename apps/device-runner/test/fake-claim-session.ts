import type { ClaimConnectionOptions } from '@thingcert/device-client';
import type { ClaimSession, ConnectClaim } from '../src/claim-source';

/** How the fake service answers every request: a rejection, or a dropped connection. */
export type FakeClaimAnswer =
  | { readonly rejected: { statusCode: number; errorCode: string; errorMessage: string } }
  | 'interrupt';

/**
 * A claim connection whose identity client answers each request with
 * `answer` on the reply topic the real service would use; `connected` records
 * how it was opened, `closed` counts closes.
 */
export function fakeClaim(answer: FakeClaimAnswer): {
  connectClaim: ConnectClaim;
  connected: ClaimConnectionOptions[];
  closed: () => number;
} {
  const connected: ClaimConnectionOptions[] = [];
  let closes = 0;
  const connectClaim: ConnectClaim = (options) => {
    connected.push(options);
    const rejected = new Set<(error?: never, response?: object) => void>();
    const interrupted = new Set<() => void>();
    const subscribe = (handler?: (error?: never, response?: object) => void) => {
      if (handler !== undefined) rejected.add(handler);
      return Promise.resolve({ topic: 'reply', qos: 1 as const });
    };
    const publish = () => {
      setImmediate(() => {
        if (answer === 'interrupt') for (const listener of interrupted) listener();
        else for (const handler of rejected) handler(undefined, answer.rejected);
      });
      return Promise.resolve({});
    };
    const session: ClaimSession = {
      identity: {
        subscribeToCreateCertificateFromCsrAccepted: () => subscribe(),
        subscribeToCreateCertificateFromCsrRejected: (_request, _qos, handler) =>
          subscribe(handler),
        publishCreateCertificateFromCsr: publish,
        subscribeToRegisterThingAccepted: () => subscribe(),
        subscribeToRegisterThingRejected: (_request, _qos, handler) => subscribe(handler),
        publishRegisterThing: publish,
      },
      onInterrupted: (listener) => {
        interrupted.add(listener);
        return () => interrupted.delete(listener);
      },
      close: () => {
        closes++;
        return Promise.resolve();
      },
    };
    return Promise.resolve(session);
  };
  return { connectClaim, connected, closed: () => closes };
}
