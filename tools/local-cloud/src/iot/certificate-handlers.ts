import {
  CsrRejectedError,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../certificate-authority';
import { IotServiceError } from '../errors';
import { IotRegistry, type CertificateRecord, type CertificateStatus } from '../iot-registry';
import type { IotHandlers, RegistryHandlerDeps } from './handler';
import { pageSize, paginate } from './paging';
import { validationError } from './request-validation';
import { findCertificate } from './resource-lookup';

/** What the certificate operations need. */
export interface CertificateHandlerDeps extends RegistryHandlerDeps {
  ca: CertificateAuthority;
  accountId: string;
  /** Called when a certificate stops being usable (not ACTIVE, or deleted). */
  onCertificateUnusable: (certificateId: string) => void;
}

type CertificateOperation =
  | 'CreateKeysAndCertificate'
  | 'CreateCertificateFromCsr'
  | 'DescribeCertificate'
  | 'ListCertificates'
  | 'UpdateCertificate'
  | 'DeleteCertificate';

/** Handlers of the certificate operations: create (keys or CSR), describe, list, update, delete. */
export function certificateHandlers(
  deps: CertificateHandlerDeps,
): IotHandlers<CertificateOperation> {
  const { registry, ca, accountId } = deps;
  return {
    CreateKeysAndCertificate: async ({ query }) => {
      const issued = await ca.createKeysAndCertificate();
      return {
        ...(await registerIssued(deps, issued, query)),
        keyPair: { PublicKey: issued.publicKeyPem, PrivateKey: issued.privateKeyPem },
      };
    },
    CreateCertificateFromCsr: async ({ query, body }) => {
      const csr = body['certificateSigningRequest'];
      if (typeof csr !== 'string' || csr.length === 0) {
        throw validationError('certificateSigningRequest', String(csr), 'Member must not be null');
      }
      let issued;
      try {
        issued = await ca.signCsr(csr);
      } catch (error) {
        if (error instanceof CsrRejectedError) {
          throw new IotServiceError('InvalidRequestException', 400, error.message, {
            cause: error,
          });
        }
        throw error;
      }
      return registerIssued(deps, issued, query);
    },
    DescribeCertificate: ({ params }) => {
      const record = findCertificate(registry, params[0]);
      return {
        certificateDescription: {
          certificateArn: record.certificateArn,
          certificateId: record.certificateId,
          status: record.status,
          certificatePem: record.certificatePem,
          ownedBy: accountId,
          creationDate: record.creationDate / 1000,
          lastModifiedDate: record.lastModifiedDate / 1000,
          customerVersion: 1,
          generationId: record.generationId,
          validity: {
            notBefore: record.creationDate / 1000 - 60,
            notAfter: Date.parse('2049-12-31T23:59:59Z') / 1000,
          },
          certificateMode: 'DEFAULT',
        },
      };
    },
    ListCertificates: ({ query }) => {
      const ascending = query.get('isAscendingOrder') === 'true';
      const all = [...registry.certificates.values()].sort((a, b) =>
        ascending ? a.creationDate - b.creationDate : b.creationDate - a.creationDate,
      );
      const page = paginate(all, query.get('marker'), pageSize(query.get('pageSize'), 25, 250));
      return {
        certificates: page.items.map((c) => ({
          certificateArn: c.certificateArn,
          certificateId: c.certificateId,
          status: c.status,
          certificateMode: 'DEFAULT',
          creationDate: c.creationDate / 1000,
        })),
        nextMarker: page.next,
      };
    },
    UpdateCertificate: async ({ params, query }) => {
      const record = findCertificate(registry, params[0]);
      const status = newStatusOf(record, query.get('newStatus') ?? '');
      if (record.status !== status) {
        record.status = status;
        record.lastModifiedDate = Date.now();
        await registry.save();
      }
      if (status !== 'ACTIVE') deps.onCertificateUnusable(record.certificateId);
      return undefined;
    },
    DeleteCertificate: async ({ params, query }) => {
      const record = findCertificate(registry, params[0]);
      if (record.status === 'ACTIVE') {
        throw new IotServiceError(
          'CertificateStateException',
          406,
          `Certificate must be deactivated (not ACTIVE) before deletion. (certificateId: ${record.certificateId})`,
        );
      }
      if (registry.thingsFor(record.certificateArn).length > 0) {
        throw new IotServiceError(
          'DeleteConflictException',
          409,
          `Things must be detached before deletion (arn: ${record.certificateArn})`,
        );
      }
      const attached = registry.policiesFor(record.certificateArn);
      if (attached.length > 0 && query.get('forceDelete') !== 'true') {
        throw new IotServiceError(
          'DeleteConflictException',
          409,
          `Certificate policies must be detached before deletion (arn: ${record.certificateArn})`,
        );
      }
      for (const p of attached)
        registry.policyTargets.get(p.policyName)?.delete(record.certificateArn);
      registry.certificates.delete(record.certificateId);
      await registry.save();
      deps.onCertificateUnusable(record.certificateId);
      return undefined;
    },
  };
}

/**
 * Registers a certificate the CA just issued (ACTIVE when the call asked with
 * `setAsActive=true`) and answers its ARN, id and PEM, as both create calls do.
 */
async function registerIssued(
  deps: CertificateHandlerDeps,
  issued: Pick<IssuedCertificate, 'pem' | 'certificateId'>,
  query: URLSearchParams,
): Promise<Pick<CertificateRecord, 'certificateArn' | 'certificateId' | 'certificatePem'>> {
  const now = Date.now();
  const record: CertificateRecord = {
    certificateId: issued.certificateId,
    certificateArn: `${deps.arnPrefix}:cert/${issued.certificateId}`,
    certificatePem: issued.pem,
    status: query.get('setAsActive') === 'true' ? 'ACTIVE' : 'INACTIVE',
    creationDate: now,
    lastModifiedDate: now,
    generationId: IotRegistry.generationId(),
  };
  deps.registry.certificates.set(record.certificateId, record);
  await deps.registry.save();
  return {
    certificateArn: record.certificateArn,
    certificateId: record.certificateId,
    certificatePem: record.certificatePem,
  };
}

/** The status UpdateCertificate may move `record` to, with AWS's answers for the ones it may not. */
function newStatusOf(record: CertificateRecord, status: string): CertificateStatus {
  if (status === 'PENDING_TRANSFER' || status === 'PENDING_ACTIVATION') {
    throw new IotServiceError(
      'InvalidRequestException',
      400,
      `Cannot set certificate status to ${status} with UpdateCertificate`,
    );
  }
  if (!['ACTIVE', 'INACTIVE', 'REVOKED', 'REGISTER_INACTIVE'].includes(status)) {
    throw validationError(
      'newStatus',
      status,
      'Member must satisfy enum value set: [ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION]',
    );
  }
  if (status === 'REGISTER_INACTIVE') {
    throw new IotServiceError(
      'InvalidRequestException',
      400,
      'Cannot set certificate status to REGISTER_INACTIVE',
    );
  }
  if (record.status === 'REVOKED' && status !== 'REVOKED') {
    throw new IotServiceError(
      'CertificateStateException',
      406,
      `Certificate is revoked and cannot change status (certificateId: ${record.certificateId})`,
    );
  }
  return status as CertificateStatus;
}
