import { removeOtherCertificatePairs } from './certificate-pair-store';
import {
  downloadPointedCredentials,
  parsePointerObject,
  type FetchPointedCredentialsOptions,
  type PointedCredentials,
} from './fetch-pointed-credentials';
import { getObjectTextIfChanged } from './s3-object-text';

/** What one look at the pointer found. */
export type PointerCheck =
  /** The pointer did not change (304), or it still names the current certificate. */
  | { readonly outcome: 'unchanged' }
  /** It names another certificate, now downloaded, verified and written to disk. */
  | { readonly outcome: 'changed'; readonly credentials: PointedCredentials }
  /**
   * The pointer or what it names could not be read or is not valid; the
   * current credentials stay. `error.message` is one line, without key material.
   */
  | { readonly outcome: 'failed'; readonly error: Error };

/**
 * Watches a thing's credential pointer for a new certificate, cheaply: each
 * {@link check} is a conditional GET with the last ETag seen, which S3
 * answers with 304 and no body while nothing changed. Only when the pointer
 * names another certificate are its objects downloaded and verified. The
 * watcher never switches anything itself: its owner moves the connection,
 * then calls {@link adopt}.
 *
 * @example
 * ```ts
 * const current = await fetchPointedCredentials(options);
 * const watcher = new CredentialPointerWatcher(options, current);
 * const result = await watcher.check();
 * if (result.outcome === 'changed') {
 *   await connection.switchCredentials(result.credentials);
 *   await watcher.adopt(result.credentials);
 * }
 * ```
 */
export class CredentialPointerWatcher {
  private readonly options: FetchPointedCredentialsOptions;
  private adopted: PointedCredentials;
  private etag: string | undefined;
  private running: Promise<PointerCheck> | undefined;

  /** @param current the credentials in use now (from {@link fetchPointedCredentials}) */
  constructor(options: FetchPointedCredentialsOptions, current: PointedCredentials) {
    this.options = options;
    this.adopted = current;
    this.etag = current.pointerEtag;
  }

  /** `s3://<bucket>/<pointer key>`, for messages. */
  get pointerLocation(): string {
    return `s3://${this.options.bucket}/${this.options.pointerKey}`;
  }

  /** The credentials in use: the initial ones, or the last {@link adopt}ed. */
  get current(): PointedCredentials {
    return this.adopted;
  }

  /**
   * Looks at the pointer once. Never rejects: failures come back as
   * `outcome: 'failed'`. Calls made while one runs share its result, so a
   * burst of triggers costs one request.
   */
  check(): Promise<PointerCheck> {
    this.running ??= this.look().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Makes `credentials` (a `changed` result the connection now uses) current,
   * and removes every other certificate's files from the directory.
   */
  async adopt(credentials: PointedCredentials): Promise<void> {
    this.adopted = credentials;
    this.etag = credentials.pointerEtag;
    await removeOtherCertificatePairs(this.options.dir, credentials.certificateId);
  }

  private async look(): Promise<PointerCheck> {
    const { s3, bucket, pointerKey, abortSignal } = this.options;
    try {
      const object = await getObjectTextIfChanged(
        { s3, bucket, key: pointerKey, abortSignal },
        this.etag,
      );
      if (object === undefined) return { outcome: 'unchanged' };
      const pointer = parsePointerObject(object.text, this.pointerLocation);
      if (pointer.certificateId === this.adopted.certificateId) {
        // Rewritten with the same certificate (updatedAt): remember the new
        // ETag so the next look is a 304 again.
        this.etag = object.etag;
        return { outcome: 'unchanged' };
      }
      const credentials = await downloadPointedCredentials(this.options, pointer, object.etag);
      return { outcome: 'changed', credentials };
    } catch (error) {
      return {
        outcome: 'failed',
        error: error instanceof Error ? error : new Error(String(error)),
      };
    }
  }
}
