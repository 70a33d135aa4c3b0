import type { CertificateAuthority } from './certificate-authority';
import {
  requestLogLine,
  startHttpService,
  type HttpService,
  type TlsListenerOptions,
} from './http-service';
import type { FaultInjector } from './fault-injection';
import type { AccessEvaluator } from './iam/access-evaluator';
import type { TemplateFeatures } from './fleet/template-body';
import type { IdentityRegistry } from './iam/identity-registry';
import { certificateHandlers } from './iot/certificate-handlers';
import { DelayedTasks } from './iot/delayed-tasks';
import { createIotDispatch } from './iot/dispatch';
import { endpointHandlers } from './iot/endpoint-handlers';
import type { IotHandlers } from './iot/handler';
import { policyHandlers } from './iot/policy-handlers';
import { provisioningTemplateHandlers } from './iot/provisioning-template-handlers';
import { thingGroupHandlers } from './iot/thing-group-handlers';
import { thingGroupMembershipHandlers } from './iot/thing-group-membership-handlers';
import { thingHandlers } from './iot/thing-handlers';
import { thingPrincipalHandlers } from './iot/thing-principal-handlers';
import type { IotRegistry } from './iot-registry';

/** What the control plane needs; built by `startLocalCloud`. */
export interface IotControlPlaneOptions {
  port: number;
  /** Also serve HTTPS (where `aws:SecureTransport` is true). */
  tls: TlsListenerOptions | undefined;
  /** Who signs requests, and how their requests are decided. */
  identities: IdentityRegistry;
  evaluator: AccessEvaluator;
  region: string;
  accountId: string;
  dataEndpoint: string;
  registry: IotRegistry;
  ca: CertificateAuthority;
  throttle: Partial<Record<string, number>>;
  /** Faults a test put in place. */
  faults?: FaultInjector;
  detachDelayMs: number;
  /** Optional provisioning template features accepted (CloudFormation conditions). */
  templateFeatures: TemplateFeatures;
  log: ((line: string) => void) | undefined;
  /** Called when a certificate stops being usable (not ACTIVE, or deleted). */
  onCertificateUnusable: (certificateId: string) => void;
}

/** The running control plane. */
export interface IotControlPlane extends HttpService {
  /** Resolves once every delayed DetachThingPrincipal has taken effect. */
  settle(): Promise<void>;
}

/**
 * Starts the IoT control plane: a REST-JSON HTTP server answering what
 * `@aws-sdk/client-iot` sends, with AWS's status codes, error names and rules.
 * This module only wires the parts: routes and HTTP in `iot/dispatch`, one
 * handler module per resource in `iot/*-handlers`.
 */
export async function startIotControlPlane(
  options: IotControlPlaneOptions,
): Promise<IotControlPlane> {
  const { registry, ca, region, accountId } = options;
  const arnPrefix = `arn:aws:iot:${region}:${accountId}`;
  const delayedDetaches = new DelayedTasks();
  // Typed as every operation: leaving a group out does not compile.
  const handlers: IotHandlers = {
    ...certificateHandlers({
      registry,
      ca,
      accountId,
      arnPrefix,
      onCertificateUnusable: options.onCertificateUnusable,
    }),
    ...thingHandlers({ registry, arnPrefix }),
    ...thingPrincipalHandlers({
      registry,
      detachDelayMs: options.detachDelayMs,
      delayedDetaches,
    }),
    ...policyHandlers({ registry, arnPrefix }),
    ...provisioningTemplateHandlers({
      registry,
      arnPrefix,
      templateFeatures: options.templateFeatures,
    }),
    ...thingGroupHandlers({ registry, arnPrefix }),
    ...thingGroupMembershipHandlers({ registry, arnPrefix }),
    ...endpointHandlers({ dataEndpoint: options.dataEndpoint }),
  };
  const dispatch = createIotDispatch({
    handlers,
    throttle: options.throttle,
    faults: options.faults,
    log: options.log,
    identities: options.identities,
    region,
    authorization: { evaluator: options.evaluator, arnPrefix },
  });
  const service = await startHttpService(
    options.port,
    dispatch,
    (error) => options.log?.(requestLogLine({ service: 'iot', fault: String(error) })),
    options.tls,
  );
  return {
    port: service.port,
    tlsPort: service.tlsPort,
    settle: () => delayedDetaches.settle(),
    close: async () => {
      delayedDetaches.cancel();
      await service.close();
    },
  };
}
