/**
 * Every error alertmgr raises on purpose is a class here, with a stable `code` that logs,
 * metrics and tests can rely on, the `cause` that led to it, and whether retrying the same
 * operation can succeed (`retryable`), which the retry and restart policies read.
 */
export abstract class AlertmgrError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks the contract: a bad object, policy, flag or duration. Never retryable. */
export class ValidationError extends AlertmgrError {
  readonly code = 'E_VALIDATION';

  /** `field` is the JSON path of the offending field, e.g. `spec.requirements[0].operator`. */
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(field ? `${field}: ${problem}` : problem);
  }
}

/** The store could not be reached or timed out. Retrying later can succeed. */
export class StoreUnavailableError extends AlertmgrError {
  readonly code = 'E_STORE_UNAVAILABLE';
  override readonly retryable = true;
}

/**
 * The revision asked for has been compacted away: a watch or a paged list that started at it
 * can never complete. The caller must list again from the present.
 */
export class CompactedError extends AlertmgrError {
  readonly code = 'E_COMPACTED';

  constructor(
    readonly revision: number,
    readonly compactRevision: number,
    options?: { cause?: unknown },
  ) {
    super(
      `revision ${revision} has been compacted` +
        (compactRevision > 0 ? ` (oldest available is ${compactRevision})` : ''),
      options,
    );
  }
}

/**
 * A watch from an old revision failed because what happened since does not fit in one
 * message (etcd sends a lagging watch its whole backlog at once). Watching again from the
 * same revision fails the same way: the caller must list again, in pages, instead.
 */
export class WatchBacklogTooLargeError extends AlertmgrError {
  readonly code = 'E_WATCH_BACKLOG';
}

/** A watch ended without compaction (stream lost, server cancelled it). Watch again. */
export class WatchCancelledError extends AlertmgrError {
  readonly code = 'E_WATCH_CANCELLED';
  override readonly retryable = true;
}

/** A transaction's compare-and-swap guard failed: someone else changed a key first. */
export class ConflictError extends AlertmgrError {
  readonly code = 'E_CONFLICT';

  constructor(
    readonly key: string,
    message = `${key} was changed concurrently`,
  ) {
    super(message);
  }
}

/**
 * A destination did not take a notification. `retryable` says whether the same send can
 * succeed later (a network error, a 5xx or 429) or never will (another 4xx, a message the
 * receiver rejects): the export worker retries the first kind and gives up on the second.
 */
export class DeliveryError extends AlertmgrError {
  readonly code = 'E_DELIVERY';
  override readonly retryable: boolean;

  constructor(
    readonly destination: string,
    message: string,
    options: { retryable: boolean; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** A stage snapshot that cannot be used: damaged, of another format or of another daemon. */
export class SnapshotError extends AlertmgrError {
  readonly code = 'E_SNAPSHOT';

  constructor(
    readonly stage: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`snapshot of stage ${stage} dropped: ${reason}`, cause === undefined ? {} : { cause });
  }
}
