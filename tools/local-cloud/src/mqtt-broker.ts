import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { certificateIdOf } from './certificate-authority';
import { requestLogLine } from './http-service';
import type { IotRegistry } from './iot-registry';
import type { FleetProvisioningApi } from './fleet/fleet-provisioning-api';
import { ConnectWindow } from './mqtt/connect-window';
import { answerFleetRequest } from './mqtt/fleet-provisioning-responder';
import { isFleetReplyTopic, parseFleetRequestTopic } from './mqtt/fleet-provisioning-topics';
import { TlsListeners } from './mqtt/tls-listeners';
import {
  evaluatePolicies,
  iotResourceArn,
  type AuthorizationRequest,
  type IotAction,
} from './policy-evaluator';

/**
 * AWS IoT's largest PUBLISH payload, 128 KB (read as KiB). AWS disconnects an MQTT 3.1.1 client
 * that publishes more. AWS's quota, kept here on purpose rather than shared with thingcert's code
 * (see iot/request-validation.ts).
 */
export const MAX_PUBLISH_PAYLOAD_BYTES = 128 * 1024;

/**
 * CONNACK return code for a CONNECT refused by the per-client-id rate limit. AWS documents the
 * limit (1 CONNECT/s per client id, metric `Connect.ClientIDThrottle`) but not what goes on the
 * wire; MQTT 3.1.1's "server unavailable" is the code that tells a client to retry later.
 */
const CONNACK_SERVER_UNAVAILABLE = 3;
const CONNACK_NOT_AUTHORIZED = 5;

/** What the broker needs; built by `startLocalCloud`. */
export interface MqttBrokerOptions {
  port: number;
  region: string;
  accountId: string;
  registry: IotRegistry;
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  /** A CONNECT this soon after the client id's last accepted CONNECT is refused; 0 disables. */
  connectIntervalMs: number;
  /** Answers the device provisioning MQTT API (`$aws/certificates/...`, `$aws/provisioning-templates/...`). */
  fleetProvisioning: Pick<FleetProvisioningApi, 'handle'>;
  log: ((line: string) => void) | undefined;
}

/** The running broker. */
export interface MqttBroker {
  port: number;
  /** Closes every live connection authenticated with this certificate. */
  dropCertificate(certificateId: string): void;
  /** Drops all connections and listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

interface Session {
  certificateId: string;
  certificateArn: string;
  clientId: string;
}

/**
 * aedes writes the CONNACK refusal and destroys the socket at once; a TLS
 * socket destroyed that soon can drop those bytes, and the client then sees a
 * bare close and retries instead of learning it was refused. For a refused
 * CONNECT, end the socket (flushing what was written) and destroy it after.
 */
function flushBeforeDestroy(socket: TLSSocket): void {
  const destroy = socket.destroy.bind(socket);
  let ending = false;
  socket.destroy = () => {
    if (!ending) {
      ending = true;
      socket.end(() => destroy());
      setTimeout(() => destroy(), 2000).unref();
    }
    return socket;
  };
}

/** AWS IoT-like MQTT 3.1.1 over mTLS: aedes behind a TLS server, authorised by IoT policies. */
export async function startMqttBroker(options: MqttBrokerOptions): Promise<MqttBroker> {
  const { registry } = options;
  const where = { region: options.region, accountId: options.accountId };
  const sessions = new Map<Client, Session>();
  // Persistent (clean session false) clients that went away while aedes may
  // still be handing them a message: AWS IoT keeps such a message for the
  // persistent session and delivers it when the client is back.
  const departedClients = new WeakSet<Client>();
  const connectWindow = new ConnectWindow(options.connectIntervalMs);
  const log = (fields: Record<string, string | number | undefined>) =>
    options.log?.(requestLogLine({ service: 'mqtt', ...fields }));

  const authorize = (session: Session, action: IotAction, resource: string): boolean =>
    authorizeSession(registry, log, session, action, resource);

  const broker = await Aedes.createBroker({
    authenticate: (client, _username, _password, done) => {
      const socket = client.conn as TLSSocket;
      const peer =
        typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
      const raw = peer?.raw;
      const refuse = (reason: string, returnCode = CONNACK_NOT_AUTHORIZED) => {
        log({ event: 'connect-refused', clientId: client.id, reason });
        flushBeforeDestroy(socket);
        const error = new Error(reason) as AuthenticateError;
        error.returnCode = returnCode;
        done(error, false);
      };
      if (raw === undefined) return refuse('no client certificate');
      const certificateId = certificateIdOf(raw);
      const certificate = registry.certificates.get(certificateId);
      if (certificate === undefined) return refuse('certificate not registered');
      if (certificate.status !== 'ACTIVE') return refuse(`certificate is ${certificate.status}`);
      const session: Session = {
        certificateId,
        certificateArn: certificate.certificateArn,
        clientId: client.id,
      };
      if (!authorize(session, 'iot:Connect', iotResourceArn('client', client.id, where))) {
        return refuse('iot:Connect not allowed');
      }
      // After authorisation, so a refused device still learns it is not authorised; only accepted
      // CONNECTs open the window, so a refused attempt never delays the next one.
      const now = performance.now();
      if (connectWindow.tooSoon(client.id, now)) {
        return refuse('CONNECT rate exceeded for client id', CONNACK_SERVER_UNAVAILABLE);
      }
      connectWindow.record(client.id, now);
      sessions.set(client, session);
      log({ event: 'connected', clientId: client.id, certificateId });
      done(null, true);
    },
    authorizePublish: publishAuthorizer({
      sessions,
      authorize,
      where,
      log,
      fleetProvisioning: options.fleetProvisioning,
    }),
    authorizeSubscribe: (client, subscription, done) => {
      const session = sessions.get(client);
      if (
        session === undefined ||
        !authorize(
          session,
          'iot:Subscribe',
          iotResourceArn('topicfilter', subscription.topic, where),
        )
      ) {
        done(new Error(`iot:Subscribe not allowed on ${subscription.topic}`));
        client.close();
        return;
      }
      done(null, subscription);
    },
    authorizeForward: (client, packet) => {
      // Requests to the provisioning API go to the API, not to subscribers.
      if (packet.topic.startsWith('$SYS/') || parseFleetRequestTopic(packet.topic) !== undefined) {
        return null;
      }
      const session = sessions.get(client);
      if (session === undefined) {
        // A persistent client that went away: the message is queued for its
        // session, not delivered. AWS IoT confirms iot:Receive "every time a
        // message is delivered to a client", so the check happens when the
        // session is resumed (aedes asks again for each queued message), with
        // the certificate that then connects. Refusing here would drop a
        // message AWS keeps: the one lost across a rotation.
        return !client.clean && departedClients.has(client) ? packet : null;
      }
      if (!client.clean && !certificateUsable(registry, session)) {
        // Its certificate just left ACTIVE and the connection is being closed
        // (dropCertificate): the same, the message waits for the session's
        // next connection.
        return packet;
      }
      return authorize(session, 'iot:Receive', iotResourceArn('topic', packet.topic, where))
        ? packet
        : null;
    },
  });
  broker.on('clientDisconnect', (client) => {
    const session = sessions.get(client);
    if (session !== undefined && !client.clean) departedClients.add(client);
    sessions.delete(client);
  });
  broker.on('clientError', (client, error) =>
    log({ event: 'client-error', clientId: client.id, error: error.message }),
  );
  broker.on('connectionError', (_client, error) =>
    log({ event: 'connection-error', error: error.message }),
  );

  const listeners = new TlsListeners({
    port: options.port,
    caPem: options.caPem,
    serverCertPem: options.serverCertPem,
    serverKeyPem: options.serverKeyPem,
    onSecureConnection: (socket) => broker.handle(socket),
    log,
  });
  const closeListeners = async (): Promise<void> => {
    const closing = listeners.stopAccepting();
    for (const client of [...sessions.keys()]) client.close();
    listeners.destroySockets();
    await closing;
  };

  await listeners.open();
  return {
    get port() {
      return listeners.port;
    },
    dropCertificate: (certificateId) => {
      for (const [client, session] of sessions) {
        if (session.certificateId === certificateId) {
          log({ event: 'dropped', clientId: session.clientId, certificateId });
          client.close();
          // Do not wait for the client to answer the TLS close: cut the socket now.
          client.conn.destroy();
        }
      }
    },
    restart: async () => {
      await closeListeners();
      await listeners.open();
    },
    close: async () => {
      await closeListeners();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** What the publish hook reads. */
interface PublishAuthorizerDeps {
  sessions: Map<Client, Session>;
  authorize: (session: Session, action: IotAction, resource: string) => boolean;
  where: { region: string; accountId: string };
  log: (fields: Record<string, string | number | undefined>) => void;
  fleetProvisioning: Pick<FleetProvisioningApi, 'handle'>;
}

/**
 * aedes' `authorizePublish`: the 128 KB payload limit, `iot:Publish`, the reserved reply topics
 * of the provisioning API; an accepted publish to a provisioning API request topic is also
 * handed to the API, which answers this client alone.
 */
function publishAuthorizer(
  deps: PublishAuthorizerDeps,
): NonNullable<AedesOptions['authorizePublish']> {
  const { sessions, authorize, where, log } = deps;
  return (client, packet, done) => {
    // `client` is null for messages the broker publishes itself ($SYS).
    if (client === null) return done(null);
    const size = Buffer.byteLength(packet.payload);
    if (size > MAX_PUBLISH_PAYLOAD_BYTES) {
      log({ event: 'payload-too-large', clientId: client.id, topic: packet.topic, size });
      // AWS IoT disconnects an MQTT 3.1.1 client that publishes more than 128 KB.
      done(new Error(`payload of ${size} bytes exceeds ${MAX_PUBLISH_PAYLOAD_BYTES}`));
      client.close();
      return;
    }
    const session = sessions.get(client);
    if (
      session === undefined ||
      !authorize(session, 'iot:Publish', iotResourceArn('topic', packet.topic, where)) ||
      // Reserved topics: devices receive the API's replies, they cannot publish them.
      isFleetReplyTopic(packet.topic)
    ) {
      // AWS IoT disconnects an MQTT 3.1.1 client that publishes where it may not.
      done(new Error(`iot:Publish not allowed on ${packet.topic}`));
      client.close();
      return;
    }
    done(null);
    const fleetRequest = parseFleetRequestTopic(packet.topic);
    if (fleetRequest !== undefined) {
      const caller = { clientId: client.id, certificateId: session.certificateId };
      const payload = Buffer.from(packet.payload);
      answerFleetRequest(deps.fleetProvisioning, client, fleetRequest, payload, caller, log);
    }
  };
}

/**
 * Whether a session may do `action` on `resource`: its certificate must still be ACTIVE and
 * its policies must allow it (AWS checks every operation, not only CONNECT). Denials are logged.
 */
/** Whether the session's certificate is still ACTIVE (AWS IoT closes the connection otherwise). */
function certificateUsable(registry: IotRegistry, session: Session): boolean {
  return registry.certificates.get(session.certificateId)?.status === 'ACTIVE';
}

function authorizeSession(
  registry: IotRegistry,
  log: (fields: Record<string, string | number | undefined>) => void,
  session: Session,
  action: IotAction,
  resource: string,
): boolean {
  if (!certificateUsable(registry, session)) return false;
  const attachedThings = registry.thingsFor(session.certificateArn);
  // Thing variables resolve only when the client id names a thing attached to the certificate.
  const thingName = attachedThings.includes(session.clientId) ? session.clientId : undefined;
  const request: AuthorizationRequest = {
    action,
    resource,
    clientId: session.clientId,
    thingName,
    isAttached: thingName !== undefined,
  };
  const documents = registry.policiesFor(session.certificateArn).map((p) => p.policyDocument);
  // Policies of the thing's groups and of their parents apply to the thing too.
  if (thingName !== undefined) {
    for (const group of registry.groupsOfThing(thingName)) {
      for (const level of registry.groupLineage(group)) {
        documents.push(...registry.policiesFor(level.thingGroupArn).map((p) => p.policyDocument));
      }
    }
  }
  const result = evaluatePolicies(documents, request);
  if (!result.allowed)
    log({
      event: 'denied',
      action,
      resource,
      clientId: session.clientId,
      decision: result.decision,
    });
  return result.allowed;
}
