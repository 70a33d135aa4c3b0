import type { StructuredLogger } from '@thingcert/cfn-response';
import type { CertificateProperties } from './certificate-properties';
import type { Provisioned } from './provision';
import type { ProvisionerDeps, Sleep } from './provisioner-deps';
import type { ClaimedOutcome } from './request-claim';

/** The clients of one invocation, with its logger (request fields added) and sleep filled in. */
export interface CertificateRequestDeps extends ProvisionerDeps {
  readonly logger: StructuredLogger;
  readonly sleep: Sleep;
}

/**
 * A certificate this invocation made and CloudFormation must learn about:
 * what it takes to take it back when the response cannot be delivered.
 * `provisioned` holds the replaced objects' bodies (key material): never log it.
 */
export interface MadeCertificate {
  readonly outcome: ClaimedOutcome;
  readonly props: CertificateProperties;
  /** `undefined` only if the claimed work never finished. */
  readonly provisioned: Provisioned | undefined;
}

/** What each request unit of the certificate resource handler is given. */
export interface CertificateRequestContext {
  readonly deps: CertificateRequestDeps;
  /** Aborts the work ahead of the Lambda deadline, leaving time to clean up. */
  readonly signal: AbortSignal;
  /** Called as soon as this invocation made a certificate (not for a duplicate delivery). */
  readonly recordMade: (made: MadeCertificate) => void;
}

const CERTIFICATE_ID = /^[0-9a-f]{64}$/;

/**
 * The certificate id a physical resource id names, or `undefined` when it
 * names none (a failed Create's marker, an id this handler never answered).
 */
export function certificateIdOf(physicalResourceId: string): string | undefined {
  return CERTIFICATE_ID.test(physicalResourceId) ? physicalResourceId : undefined;
}
