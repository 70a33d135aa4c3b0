import { createHash, randomBytes } from 'node:crypto';
import { FleetProvisioningError } from '../errors';
import type { IotRegistry } from '../iot-registry';

/** "The certificateOwnershipToken ... expires after one hour." */
export const OWNERSHIP_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

/**
 * The certificate ownership tokens of the fleet provisioning MQTT API
 * (https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html): one per
 * certificate the API creates, valid one hour, good for one RegisterThing (the certificate
 * leaves PENDING_ACTIVATION when it is registered, and a token is good only while it is
 * pending). When a token expires and its certificate is still pending and attached to no
 * policy or thing, the certificate is deleted. Only hashes of tokens are stored.
 */
export class OwnershipTokens {
  /**
   * @param clock epoch milliseconds now (injectable so tests can pass the hour)
   */
  constructor(
    private readonly registry: IotRegistry,
    private readonly clock: () => number,
  ) {}

  /** A new token for a certificate the API just created (PENDING_ACTIVATION). */
  issue(certificateId: string): string {
    const token = randomBytes(96).toString('base64');
    const tokenHash = hashOf(token);
    this.registry.ownershipTokens.set(tokenHash, {
      tokenHash,
      certificateId,
      expiresAt: this.clock() + OWNERSHIP_TOKEN_LIFETIME_MS,
    });
    return token;
  }

  /**
   * The certificate a token proves ownership of.
   * @throws FleetProvisioningError `InvalidCertificateOwnershipToken` (400) for an empty, unknown,
   *   expired or already used token.
   */
  certificateFor(token: unknown): string {
    if (typeof token !== 'string' || token.length === 0) {
      // AWS's own answer to a RegisterThing without a token.
      throw invalidToken('Certificate ownership token cannot be empty.');
    }
    const record = this.registry.ownershipTokens.get(hashOf(token));
    const certificate =
      record === undefined ? undefined : this.registry.certificates.get(record.certificateId);
    if (
      record === undefined ||
      record.expiresAt <= this.clock() ||
      certificate?.status !== 'PENDING_ACTIVATION'
    ) {
      throw invalidToken('Certificate ownership token is invalid, expired or already used.');
    }
    return record.certificateId;
  }

  /** Forgets the tokens of a certificate that was registered. */
  forget(certificateId: string): void {
    for (const [hash, record] of this.registry.ownershipTokens) {
      if (record.certificateId === certificateId) this.registry.ownershipTokens.delete(hash);
    }
  }

  /**
   * Drops expired tokens and deletes their certificates that are still pending and attached to
   * nothing, as AWS does once the hour is over.
   * @returns the ids of the certificates deleted.
   */
  expire(): string[] {
    const now = this.clock();
    const deleted: string[] = [];
    for (const [hash, record] of this.registry.ownershipTokens) {
      if (record.expiresAt > now) continue;
      this.registry.ownershipTokens.delete(hash);
      const certificate = this.registry.certificates.get(record.certificateId);
      if (
        certificate?.status === 'PENDING_ACTIVATION' &&
        this.registry.thingsFor(certificate.certificateArn).length === 0 &&
        this.registry.policiesFor(certificate.certificateArn).length === 0
      ) {
        this.registry.certificates.delete(certificate.certificateId);
        deleted.push(certificate.certificateId);
      }
    }
    return deleted;
  }
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function invalidToken(message: string): FleetProvisioningError {
  return new FleetProvisioningError(400, 'InvalidCertificateOwnershipToken', message);
}
