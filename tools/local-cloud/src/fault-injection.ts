/** One request S3 or the IoT control plane is about to carry out, as a fault rule sees it. */
export interface FaultRequest {
  readonly service: 's3' | 'iot';
  /** The API operation: `PutObject`, `DeleteObjects`, `UpdateCertificate`… */
  readonly operation: string;
  /** S3: the bucket. */
  readonly bucket?: string;
  /** S3: the object key (empty for bucket operations). */
  readonly key?: string;
  /** IoT: the route's path parameters in order (`/certificates/{id}` → `[id]`). */
  readonly params?: readonly string[];
}

/** The AWS error an injected fault answers with. */
export interface InjectedError {
  /** The error code (`AccessDenied`, `InternalError`, `ServiceUnavailable`…). */
  readonly code: string;
  /** The HTTP status (403, 500, 503…). */
  readonly status: number;
  /** @default 'injected fault' */
  readonly message?: string;
}

/** A fault: requests it matches are answered with its error instead of being carried out. */
export interface FaultRule {
  readonly service: 's3' | 'iot';
  readonly operation: string;
  /** Narrows the rule further (an object key, a certificate id). @default every request of the operation */
  readonly when?: (request: FaultRequest) => boolean;
  readonly error: InjectedError;
}

/** A fault in place: how often it answered, and how to lift it. */
export interface InjectedFault {
  /** Requests answered with the fault's error so far. */
  readonly hits: number;
  /** Lifts the fault: the next request is carried out again. */
  remove(): void;
}

/**
 * Faults a test puts into the local cloud, so that a call fails the way it
 * can on AWS (an explicit Deny an operator added, a 500 or 503 from the
 * service) at the moment the test chooses, whoever makes the call. A matched
 * request is refused after authentication and authorization, before anything
 * changes, with the rule's error in the service's own format (S3 XML, IoT
 * JSON with `x-amzn-errortype`). Nothing is injected unless a test adds a rule.
 *
 * @example
 * ```ts
 * const fault = cloud.faults.add({
 *   service: 's3',
 *   operation: 'PutObject',
 *   when: (request) => request.key?.endsWith('/current.json') === true,
 *   error: { code: 'AccessDenied', status: 403, message: 'Access Denied' },
 * });
 * try { await update(); } finally { fault.remove(); }
 * ```
 */
export class FaultInjector {
  private readonly rules = new Set<FaultRule & { hits: number }>();

  /** Puts a fault in place until its `remove()`. */
  add(rule: FaultRule): InjectedFault {
    const entry = { ...rule, hits: 0 };
    this.rules.add(entry);
    return {
      get hits() {
        return entry.hits;
      },
      remove: () => {
        this.rules.delete(entry);
      },
    };
  }

  /** Lifts every fault. */
  clear(): void {
    this.rules.clear();
  }

  /**
   * The error of the first fault matching `request` (counted as a hit), or
   * `undefined` when the request is to be carried out.
   */
  match(request: FaultRequest): InjectedError | undefined {
    for (const rule of this.rules) {
      if (rule.service !== request.service || rule.operation !== request.operation) continue;
      if (rule.when && !rule.when(request)) continue;
      rule.hits += 1;
      return rule.error;
    }
    return undefined;
  }
}
