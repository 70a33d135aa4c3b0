import {
  isPreconditionFailure,
  type CredentialStore,
  type PutOptions,
  type StoredObject,
} from './credential-store';
import { describeCause, isAwsErrorNamed } from './errors';

/** How {@link WriteJournal} writes every object. */
export interface JournalWriteOptions {
  /** Content type of the objects written, and of objects put back that had none. */
  readonly contentType: string;
  /**
   * SSE-KMS key id or ARN for the objects written.
   * @default bucket default encryption
   */
  readonly kmsKeyId?: string;
  /**
   * Stops the writes (not the put-back or roll-back, which are cleanup).
   * @default never aborts
   */
  readonly signal?: AbortSignal;
}

/** What {@link WriteJournal.write} asks about an object already at the key. */
export interface ExistingObjectPolicy {
  /**
   * True when the object is this run's own earlier write (a retried PUT that
   * landed): overwriting it is fine and it is not worth putting back.
   */
  readonly isOurs: (existing: StoredObject) => boolean;
  /**
   * Throws when the object must not be overwritten; the write stops there and
   * the object stays as it is.
   * @default every existing object may be overwritten
   */
  readonly assertReplaceable?: (existing: StoredObject) => void;
}

/**
 * The objects one provision run writes into a thing's folder, each with what
 * the key held before, so the folder can be put back as it was: the objects a
 * rotation overwrote are put back (body, content type, SSE-KMS key) and the
 * new ones deleted.
 *
 * It holds the overwritten bodies, which include a private key: never log or
 * serialise a journal; log {@link WriteJournal.replacedKeys} and
 * {@link WriteJournal.createdKeys} instead.
 *
 * @example
 * ```ts
 * const journal = new WriteJournal(store, { contentType: 'application/x-pem-file' });
 * try {
 *   await journal.write(key, pem, { isOurs: (existing) => existing.body === pem });
 * } catch (error) {
 *   const problems = await journal.rollBack();
 * }
 * ```
 */
export class WriteJournal {
  /**
   * Every key this run may have written, with what it held before (undefined:
   * nothing, so undoing means deleting). Insertion order = write order.
   */
  private readonly written = new Map<string, StoredObject | undefined>();
  /**
   * Keys whose last PUT failed (the body it tried to write): the PUT may have
   * landed, or may have been refused while another object was there (an
   * AccessDenied, a 5xx is answered before `If-None-Match` is evaluated).
   * Undoing deletes such a key only if it holds that body.
   */
  private readonly unanswered = new Map<string, string>();

  constructor(
    private readonly store: CredentialStore,
    private readonly options: JournalWriteOptions,
  ) {}

  /**
   * Writes `body` to `key` if nothing is there (`If-None-Match: *`);
   * otherwise asks `policy` about the existing object, remembers it, and
   * overwrites it only if it is still the object read (`If-Match`).
   */
  async write(key: string, body: string, policy: ExistingObjectPolicy): Promise<void> {
    const put = {
      kmsKeyId: this.options.kmsKeyId,
      contentType: this.options.contentType,
      signal: this.options.signal,
    };
    // Set before the PUT: it may land even when the answer is lost. A
    // conditional PUT that landed cannot have replaced anything.
    this.written.set(key, undefined);
    try {
      await this.putOrRemember(key, body, { ...put, ifNoneMatch: true });
      return;
    } catch (error) {
      if (!isPreconditionFailure(error)) throw error;
      this.written.delete(key);
      this.unanswered.delete(key);
    }
    // Something is there already: whose is it?
    const existing = await this.store.get(key, this.options.signal);
    if (existing) policy.assertReplaceable?.(existing);
    // Our own earlier write (a retried PUT that landed) is not worth keeping.
    this.written.set(key, existing && !policy.isOurs(existing) ? existing : undefined);
    await this.putOrRemember(key, body, {
      ...put,
      ...(existing?.etag ? { ifMatch: existing.etag } : { ifNoneMatch: true }),
    });
  }

  /** One PUT; when it fails, the key is remembered as {@link unanswered}. */
  private async putOrRemember(key: string, body: string, options: PutOptions): Promise<void> {
    try {
      await this.store.put(key, body, options);
      this.unanswered.delete(key);
    } catch (error) {
      this.unanswered.set(key, body);
      throw error;
    }
  }

  /** Keys whose earlier object was overwritten (and is kept to be put back), in write order. */
  get replacedKeys(): string[] {
    return [...this.replaced().keys()];
  }

  /** Keys that held nothing before this run wrote them, in write order. */
  get createdKeys(): string[] {
    return [...this.written].filter(([, previous]) => !previous).map(([key]) => key);
  }

  /**
   * Puts the overwritten objects back, each with an independent PUT,
   * ignoring the abort signal: this is cleanup. Resolves to problem lines
   * (key and cause, never the body); empty when all went back.
   */
  async restoreReplaced(): Promise<string[]> {
    const problems: string[] = [];
    for (const [key, object] of this.replaced()) {
      try {
        await this.store.put(key, object.body, {
          contentType: object.contentType ?? this.options.contentType,
          ...(object.kmsKeyId ? { kmsKeyId: object.kmsKeyId } : {}),
        });
      } catch (error) {
        problems.push(`restoreObject ${key}: ${describeCause(error)}`);
      }
    }
    return problems;
  }

  /**
   * Undoes every write after a failure: puts the overwritten objects back,
   * then deletes the objects that did not exist before; a key whose PUT
   * failed only if it holds what this run tried to write (a refused PUT left
   * whatever was there, another certificate's pointer say, and that stays).
   * Ignores the abort signal: it must run especially when the deadline
   * stopped the work. Resolves to problem lines (no key material); empty
   * when all was undone.
   */
  async rollBack(): Promise<string[]> {
    const problems = await this.restoreReplaced();
    const created: string[] = [];
    for (const key of this.createdKeys) {
      const attempted = this.unanswered.get(key);
      if (attempted === undefined) {
        created.push(key);
        continue;
      }
      try {
        if ((await this.store.get(key))?.body === attempted) created.push(key);
      } catch (error) {
        problems.push(`checkObject ${key}: ${describeCause(error)}`);
      }
    }
    if (created.length > 0) {
      try {
        await this.store.deleteMany(created);
      } catch (error) {
        if (!isAwsErrorNamed(error, 'ResourceNotFoundException')) {
          problems.push(`deleteObjects: ${describeCause(error)}`);
        }
      }
    }
    return problems;
  }

  private replaced(): Map<string, StoredObject> {
    const replaced = new Map<string, StoredObject>();
    for (const [key, previous] of this.written) if (previous) replaced.set(key, previous);
    return replaced;
  }
}
