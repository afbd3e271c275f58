import type {
  CompactedError,
  StoreUnavailableError,
  WatchBacklogTooLargeError,
  WatchCancelledError,
} from '../errors.js';

/**
 * The store port: the one view of etcd the rest of alertmgr depends on. Two adapters implement
 * it with the same semantics: `EtcdStore` on a real cluster and `MemoryStore` for the demo and
 * unit tests. Revisions are etcd's: one counter for the whole store, bumped once per write
 * transaction; a key's `modRevision` is the revision of its last write.
 */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision at which the key was created; a delete and re-create gives a new one. */
  readonly createRevision: number;
  /** Revision of the last write to the key: the object's resource version. */
  readonly modRevision: number;
  /** Number of writes since the key was created (1 after the first put). */
  readonly version: number;
}

export type WatchEvent =
  | { readonly type: 'put'; readonly kv: KeyValue; readonly prev?: KeyValue }
  | {
      readonly type: 'delete';
      readonly key: string;
      /** The revision of the delete itself. */
      readonly modRevision: number;
      readonly prev?: KeyValue;
    };

export interface ListPage {
  readonly items: KeyValue[];
  /** The store revision every page of this listing reflects. */
  readonly revision: number;
}

export interface ListOptions {
  /** Keys per page; pages keep each gRPC response well below its 4 MiB limit. */
  readonly pageSize?: number;
}

export type WatchError =
  CompactedError | WatchBacklogTooLargeError | WatchCancelledError | StoreUnavailableError;

/**
 * Receives a watch's output. `onEvents` is called in revision order, once per store
 * transaction that touched the prefix (events of one transaction arrive together).
 * `revision` is the revision of that transaction, so a caller that has processed the batch
 * may resume from `revision + 1`. Progress reports without events are not delivered: they
 * only keep the watch alive.
 * `onError` is called at most once and ends the watch: nothing is delivered after it.
 */
export interface WatchHandler {
  /** The server has accepted the watch; called at most once, before any events. */
  onStarted?(): void;
  onEvents(events: WatchEvent[], revision: number): void;
  onError(error: WatchError): void;
}

export interface Watch {
  /** Stops delivery at once; never waits on the network and may be called more than once. */
  cancel(): void;
}

/** Guard on a key's current revisions; 0 means "the key does not exist". */
export type Guard = { readonly modRevision: number } | { readonly createRevision: number };

export type WriteOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array | string }
  | { readonly type: 'delete'; readonly key: string };

export interface GuardedWrite {
  readonly op: WriteOp;
  /** When set, the write happens only if the key's revision still matches. */
  readonly guard?: Guard;
  /**
   * More writes that go with `op`: applied in the same transaction exactly when `op` is,
   * never otherwise (a record that must exist if and only if the change it describes does).
   */
  readonly also?: readonly WriteOp[];
}

/** Operations a batch sends to etcd; etcd limits a transaction to `MAX_TXN_OPS` of them. */
export function opsOf(writes: readonly GuardedWrite[]): number {
  return writes.reduce((sum, w) => sum + 1 + (w.also?.length ?? 0), 0);
}

export interface BatchResult {
  /** The store revision after the batch (the revision of its writes, when any happened). */
  readonly revision: number;
  /** One entry per write, in order. A refused write carries the key's current value. */
  readonly results: Array<{ readonly ok: boolean; readonly current?: KeyValue }>;
}

export interface Store {
  get(key: string): Promise<KeyValue | undefined>;

  /**
   * Lists every key under `prefix` in pages, all read at the revision of the first page, so
   * the pages together are one consistent picture. Throws `CompactedError` when that revision
   * is compacted before the last page is read; the caller lists again.
   */
  listPages(prefix: string, options?: ListOptions): AsyncGenerator<ListPage>;

  /** All pages of `listPages` gathered into one. */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;

  /**
   * Watches `prefix` from `fromRevision` (inclusive). Events that happened since then are
   * replayed first. A revision older than the compaction point fails with `CompactedError`.
   */
  watch(prefix: string, fromRevision: number, handler: WatchHandler): Watch;

  /**
   * Applies several independent writes in one transaction (one revision, one round trip).
   * Each write is applied only when its guard holds; the others still go through. A key may
   * appear at most once per batch.
   */
  batch(writes: readonly GuardedWrite[]): Promise<BatchResult>;

  /** Applies all `ops` if every guard holds, none otherwise. */
  txn(
    guards: ReadonlyArray<{ key: string; guard: Guard }>,
    ops: readonly WriteOp[],
  ): Promise<{ succeeded: boolean; revision: number }>;

  put(key: string, value: Uint8Array | string): Promise<number>;
  delete(key: string): Promise<number>;

  /** Drops history at revisions below `revision`; watches from before it then fail. */
  compact(revision: number): Promise<void>;

  /** The store's current revision. */
  currentRevision(): Promise<number>;

  close(): Promise<void>;
}

export const DEFAULT_PAGE_SIZE = 1000;

/** etcd's default `--max-txn-ops`: the most writes one transaction (and so one batch) holds. */
export const MAX_TXN_OPS = 128;

/** The first key after every key that starts with `prefix`: the end of a prefix range. */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  // A prefix of only 0xff bytes has no end; etcd reads "\0" as "to the end of the keyspace".
  return Buffer.from([0]);
}

export function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? Buffer.from(value) : value;
}
