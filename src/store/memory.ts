import { CompactedError, ValidationError } from '../errors.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_TXN_OPS,
  opsOf,
  toBytes,
  type BatchResult,
  type Guard,
  type GuardedWrite,
  type KeyValue,
  type ListOptions,
  type ListPage,
  type Store,
  type Watch,
  type WatchEvent,
  type WatchHandler,
  type WriteOp,
} from './types.js';

interface Change {
  readonly revision: number;
  readonly events: WatchEvent[];
}

interface MemoryWatch {
  readonly prefix: string;
  readonly handler: WatchHandler;
  /** Next revision this watcher still has to see; older changes were delivered. */
  nextRevision: number;
  cancelled: boolean;
  started: boolean;
}

export interface MemoryStoreOptions {
  /**
   * How many revisions of history to keep for watches that start in the past. Older history
   * is compacted automatically so a long-running demo does not grow without bound.
   */
  readonly historyLimit?: number;
}

/**
 * An in-process store with etcd's semantics: one revision counter, create/mod revisions and
 * versions per key, watch from a past revision, compaction, and guarded transactions.
 * Watch delivery is asynchronous, like a network round trip, so callers cannot come to rely
 * on events arriving inside the write call.
 */
export class MemoryStore implements Store {
  private readonly data = new Map<string, KeyValue>();
  private readonly history: Change[] = [];
  private readonly watches = new Set<MemoryWatch>();
  private readonly historyLimit: number;
  private revision = 1;
  private compactRevision = 0;
  private deliveryScheduled = false;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? 100_000;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return this.data.get(key);
  }

  async *listPages(prefix: string, options: ListOptions = {}): AsyncGenerator<ListPage> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    // The snapshot is taken at once, so every page reflects the same revision even when
    // writes happen between pages, as a pinned-revision range does on etcd.
    const revision = this.revision;
    const items = [...this.data.values()].filter((kv) => kv.key.startsWith(prefix));
    items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (items.length === 0) {
      yield { items: [], revision };
      return;
    }
    for (let start = 0; start < items.length; start += pageSize) {
      await Promise.resolve();
      // As on etcd, a listing whose revision was compacted between two pages cannot go on.
      if (revision < this.compactRevision) throw new CompactedError(revision, this.compactRevision);
      yield { items: items.slice(start, start + pageSize), revision };
    }
  }

  async list(prefix: string, options?: ListOptions): Promise<ListPage> {
    const items: KeyValue[] = [];
    let revision = 0;
    for await (const page of this.listPages(prefix, options)) {
      items.push(...page.items);
      revision = page.revision;
    }
    return { items, revision };
  }

  watch(prefix: string, fromRevision: number, handler: WatchHandler): Watch {
    const watch: MemoryWatch = {
      prefix,
      handler,
      nextRevision: fromRevision,
      cancelled: false,
      started: false,
    };
    this.watches.add(watch);
    this.scheduleDelivery();
    return {
      cancel: () => {
        watch.cancelled = true;
        this.watches.delete(watch);
      },
    };
  }

  async batch(writes: readonly GuardedWrite[]): Promise<BatchResult> {
    this.assertOpen();
    if (opsOf(writes) > MAX_TXN_OPS) {
      throw new ValidationError(
        'writes',
        `${opsOf(writes)} operations exceed ${MAX_TXN_OPS} per batch`,
      );
    }
    assertDistinctKeys(writes.map((w) => w.op.key));
    const results: Array<{ ok: boolean; current?: KeyValue }> = [];
    const applied: WriteOp[] = [];
    for (const write of writes) {
      if (write.guard && !this.holds(write.op.key, write.guard)) {
        const current = this.data.get(write.op.key);
        results.push(current ? { ok: false, current } : { ok: false });
        continue;
      }
      results.push({ ok: true });
      applied.push(write.op, ...(write.also ?? []));
    }
    const revision = this.apply(applied);
    return { revision, results };
  }

  async txn(
    guards: ReadonlyArray<{ key: string; guard: Guard }>,
    ops: readonly WriteOp[],
  ): Promise<{ succeeded: boolean; revision: number }> {
    this.assertOpen();
    assertDistinctKeys(ops.map((op) => op.key));
    if (!guards.every((g) => this.holds(g.key, g.guard))) {
      return { succeeded: false, revision: this.revision };
    }
    return { succeeded: true, revision: this.apply(ops) };
  }

  async put(key: string, value: Uint8Array | string): Promise<number> {
    this.assertOpen();
    return this.apply([{ type: 'put', key, value }]);
  }

  async delete(key: string): Promise<number> {
    this.assertOpen();
    return this.apply([{ type: 'delete', key }]);
  }

  async compact(revision: number): Promise<void> {
    if (revision > this.revision) {
      throw new ValidationError('revision', `${revision} is in the future (now ${this.revision})`);
    }
    this.compactTo(revision);
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const watch of this.watches) watch.cancelled = true;
    this.watches.clear();
  }

  /** Applies the ops as one transaction and records it in history. */
  private apply(ops: readonly WriteOp[]): number {
    const events: WatchEvent[] = [];
    const revision = this.revision + 1;
    for (const op of ops) {
      const prev = this.data.get(op.key);
      if (op.type === 'put') {
        const kv: KeyValue = {
          key: op.key,
          value: toBytes(op.value),
          createRevision: prev?.createRevision ?? revision,
          modRevision: revision,
          version: (prev?.version ?? 0) + 1,
        };
        this.data.set(op.key, kv);
        events.push(prev ? { type: 'put', kv, prev } : { type: 'put', kv });
      } else if (prev) {
        this.data.delete(op.key);
        events.push({ type: 'delete', key: op.key, modRevision: revision, prev });
      }
    }
    // Like etcd, a transaction that changes nothing does not bump the revision.
    if (events.length === 0) return this.revision;
    this.revision = revision;
    this.history.push({ revision, events });
    if (this.history.length > this.historyLimit) {
      this.compactTo(this.history[this.history.length - this.historyLimit]!.revision);
    }
    this.scheduleDelivery();
    return revision;
  }

  private holds(key: string, guard: Guard): boolean {
    const current = this.data.get(key);
    if ('modRevision' in guard) return (current?.modRevision ?? 0) === guard.modRevision;
    return (current?.createRevision ?? 0) === guard.createRevision;
  }

  private compactTo(revision: number): void {
    if (revision <= this.compactRevision) return;
    this.compactRevision = revision;
    let drop = 0;
    while (drop < this.history.length && this.history[drop]!.revision < revision) drop++;
    this.history.splice(0, drop);
  }

  private scheduleDelivery(): void {
    if (this.deliveryScheduled || this.watches.size === 0) return;
    this.deliveryScheduled = true;
    setImmediate(() => {
      this.deliveryScheduled = false;
      this.deliver();
    });
  }

  private deliver(): void {
    for (const watch of [...this.watches]) {
      if (watch.cancelled) continue;
      if (watch.nextRevision < this.compactRevision) {
        this.watches.delete(watch);
        watch.cancelled = true;
        watch.handler.onError(new CompactedError(watch.nextRevision, this.compactRevision));
        continue;
      }
      if (!watch.started) {
        watch.started = true;
        watch.handler.onStarted?.();
      }
      for (let i = this.firstChangeAtOrAfter(watch.nextRevision); i < this.history.length; i++) {
        if (watch.cancelled) break;
        const change = this.history[i]!;
        const events = change.events.filter((e) => keyOf(e).startsWith(watch.prefix));
        watch.nextRevision = change.revision + 1;
        if (events.length > 0) watch.handler.onEvents(events, change.revision);
      }
      // Caught up: the watch has seen every revision up to now.
      watch.nextRevision = Math.max(watch.nextRevision, this.revision + 1);
    }
  }

  /** Index of the first recorded change at or after `revision` (history is sorted). */
  private firstChangeAtOrAfter(revision: number): number {
    let low = 0;
    let high = this.history.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.history[mid]!.revision < revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private assertOpen(): void {
    if (this.closed) throw new ValidationError('store', 'the memory store is closed');
  }
}

function keyOf(event: WatchEvent): string {
  return event.type === 'put' ? event.kv.key : event.key;
}

function assertDistinctKeys(keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key))
      throw new ValidationError('writes', `${key} appears twice in one transaction`);
    seen.add(key);
  }
}
