import { Etcd3, type IKeyValue, type IRequestOp, type IWatchResponse } from 'etcd3';
import { noop } from 'cockatiel';

import {
  CompactedError,
  StoreUnavailableError,
  ValidationError,
  WatchBacklogTooLargeError,
  WatchCancelledError,
} from '../errors.js';
import {
  DEFAULT_PAGE_SIZE,
  MAX_TXN_OPS,
  opsOf,
  prefixEnd,
  toBytes,
  type BatchResult,
  type Guard,
  type GuardedWrite,
  type KeyValue,
  type ListOptions,
  type ListPage,
  type Store,
  type Watch,
  type WatchError,
  type WatchEvent,
  type WatchHandler,
  type WriteOp,
} from './types.js';

export interface EtcdStoreOptions {
  /** Client URLs such as `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** Deadline of every unary call; a call past it fails as `StoreUnavailableError`. */
  readonly requestTimeoutMs?: number;
  /**
   * A watch asks etcd for a progress report this often, and is declared broken when nothing
   * at all has come back for this long plus the request timeout: a paused or partitioned etcd
   * keeps a TCP connection open but silent, and a watch must not wait on it forever.
   */
  readonly watchProgressMs?: number;
  /** The largest message accepted from etcd; a lagging watch's backlog may exceed it. */
  readonly maxReceiveBytes?: number;
  readonly auth?: { readonly username: string; readonly password: string };
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/**
 * The store on a real etcd cluster, through the `etcd3` client's raw gRPC stubs. The client's
 * higher-level watcher is not used: it hides the compaction revision behind "Watcher
 * canceled" and resumes on its own from the last response it saw, while alertmgr must resume
 * from the revision it has fully processed. Its fault handling is switched off too (its
 * default circuit breaker refuses every call for seconds after one refused connection);
 * retrying is the caller's decision.
 */
export class EtcdStore implements Store {
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly progressMs: number;

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) {
      throw new ValidationError('etcd-endpoints', 'at least one endpoint is required');
    }
    this.timeoutMs = options.requestTimeoutMs ?? 5_000;
    this.progressMs = options.watchProgressMs ?? 5_000;
    const tls = options.tls;
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      ...(options.auth ? { auth: { ...options.auth } } : {}),
      ...(tls
        ? {
            credentials: {
              rootCertificate: tls.ca ?? Buffer.alloc(0),
              ...(tls.cert ? { certChain: tls.cert } : {}),
              ...(tls.key ? { privateKey: tls.key } : {}),
            },
          }
        : {}),
      faultHandling: { host: () => noop, global: noop },
      grpcOptions: {
        'grpc.max_receive_message_length': options.maxReceiveBytes ?? 64 * 1024 * 1024,
      },
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call(() => this.client.kv.range({ key: Buffer.from(key) }, this.opts()));
    const kv = res.kvs[0];
    return kv ? fromEtcd(kv) : undefined;
  }

  async *listPages(prefix: string, options: ListOptions = {}): AsyncGenerator<ListPage> {
    const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    const end = prefixEnd(prefix);
    let from = Buffer.from(prefix);
    let revision = 0;
    for (;;) {
      const res = await this.call(
        () =>
          this.client.kv.range(
            { key: from, range_end: end, limit: pageSize, revision },
            this.opts(),
          ),
        revision,
      );
      // The first page fixes the revision; the rest are read at it, so writes that happen
      // while the pages are read cannot tear the picture.
      if (revision === 0) revision = Number(res.header.revision);
      yield { items: res.kvs.map(fromEtcd), revision };
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) return;
      from = Buffer.concat([last.key, Buffer.from([0])]);
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
    const silenceMs = this.progressMs + this.timeoutMs;
    return new EtcdWatch(this.client, prefix, fromRevision, handler, this.progressMs, silenceMs);
  }

  async batch(writes: readonly GuardedWrite[]): Promise<BatchResult> {
    if (opsOf(writes) > MAX_TXN_OPS) {
      throw new ValidationError(
        'writes',
        `${opsOf(writes)} operations exceed ${MAX_TXN_OPS} per batch`,
      );
    }
    const results: Array<{ ok: boolean; current?: KeyValue }> = writes.map(() => ({ ok: true }));
    let pending = writes.map((write, index) => ({ write, index }));
    // One flat transaction guarded by every compare: etcd caps a transaction at 128 operations
    // counting nested ones, so per-write nested transactions would halve the batch. When a
    // guard fails (rare: a user changed an alert), the failure branch has read the guarded
    // keys; the writes whose guard failed are refused and the rest are tried again.
    for (;;) {
      const guarded = pending.filter((p) => p.write.guard);
      const res = await this.call(() =>
        this.client.kv.txn(
          {
            compare: guarded.map((p) => toCompare(Buffer.from(p.write.op.key), p.write.guard!)),
            success: pending.flatMap((p) => [p.write.op, ...(p.write.also ?? [])].map(toRequest)),
            failure: guarded.map((p) => ({ request_range: { key: Buffer.from(p.write.op.key) } })),
          },
          this.opts(),
        ),
      );
      if (res.succeeded) return { revision: Number(res.header.revision), results };

      const refused = new Set<number>();
      guarded.forEach((p, i) => {
        const kv = res.responses[i]?.response_range?.kvs[0];
        const current = kv ? fromEtcd(kv) : undefined;
        if (!guardHolds(p.write.guard!, current)) {
          refused.add(p.index);
          results[p.index] = current ? { ok: false, current } : { ok: false };
        }
      });
      pending = pending.filter((p) => !refused.has(p.index));
      if (pending.length === 0) return { revision: Number(res.header.revision), results };
    }
  }

  async txn(
    guards: ReadonlyArray<{ key: string; guard: Guard }>,
    ops: readonly WriteOp[],
  ): Promise<{ succeeded: boolean; revision: number }> {
    const res = await this.call(() =>
      this.client.kv.txn(
        {
          compare: guards.map((g) => toCompare(Buffer.from(g.key), g.guard)),
          success: ops.map(toRequest),
        },
        this.opts(),
      ),
    );
    return { succeeded: res.succeeded, revision: Number(res.header.revision) };
  }

  async put(key: string, value: Uint8Array | string): Promise<number> {
    const res = await this.call(() =>
      this.client.kv.put(
        { key: Buffer.from(key), value: Buffer.from(toBytes(value)) },
        this.opts(),
      ),
    );
    return Number(res.header.revision);
  }

  async delete(key: string): Promise<number> {
    const res = await this.call(() =>
      this.client.kv.deleteRange({ key: Buffer.from(key) }, this.opts()),
    );
    return Number(res.header.revision);
  }

  async compact(revision: number): Promise<void> {
    await this.call(() => this.client.kv.compact({ revision, physical: true }, this.opts()));
  }

  async currentRevision(): Promise<number> {
    // A range over one key that cannot exist returns only the header, which holds the revision.
    const res = await this.call(() =>
      this.client.kv.range({ key: Buffer.from([0]), count_only: true }, this.opts()),
    );
    return Number(res.header.revision);
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }

  private opts(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.timeoutMs) };
  }

  /** Runs one call, turning the client's errors into the store's typed errors. */
  private async call<T>(fn: () => Promise<T>, revision = 0): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateError(err, revision);
    }
  }
}

/** One watch on its own gRPC stream, so cancelling it never disturbs another. */
class EtcdWatch implements Watch {
  private stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>> | undefined;
  private done = false;
  private lastHeard = Date.now();
  private readonly ticker: NodeJS.Timeout;

  constructor(
    client: Etcd3,
    private readonly prefix: string,
    private readonly fromRevision: number,
    private readonly handler: WatchHandler,
    progressMs: number,
    silenceMs: number,
  ) {
    // Started before the stream exists: opening it can hang too when etcd is paused.
    this.ticker = setInterval(() => this.checkAlive(silenceMs), progressMs);
    this.ticker.unref();
    client.watchClient.watch().then(
      (stream) => this.attach(stream),
      (err: unknown) => this.fail(watchError(err)),
    );
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.ticker);
    // Cancelling the stream is local and immediate; nothing here waits on etcd, which may be
    // the very thing that is broken.
    this.stream?.cancel();
  }

  /** Fails the watch when etcd has said nothing for too long; otherwise asks it for news. */
  private checkAlive(silenceMs: number): void {
    if (this.done) return;
    const silent = Date.now() - this.lastHeard;
    if (silent > silenceMs) {
      this.fail(new StoreUnavailableError(`etcd sent nothing on the watch for ${silent} ms`));
      return;
    }
    // etcd answers a progress request with the revision it has caught up to, even when
    // nothing under the prefix changed: proof that the stream is alive.
    this.stream?.write({ progress_request: {} });
  }

  private attach(stream: NonNullable<EtcdWatch['stream']>): void {
    if (this.done) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (res: IWatchResponse) => this.onResponse(res));
    stream.on('error', (err: unknown) => this.fail(watchError(err)));
    stream.on('end', () => this.fail(new WatchCancelledError('the watch stream ended')));
    stream.write({
      create_request: {
        key: Buffer.from(this.prefix),
        range_end: prefixEnd(this.prefix),
        start_revision: this.fromRevision,
        prev_kv: true,
        progress_notify: true,
      },
    });
  }

  private onResponse(res: IWatchResponse): void {
    if (this.done) return;
    this.lastHeard = Date.now();
    const compactRevision = Number(res.compact_revision ?? 0);
    if (compactRevision > 0) {
      this.fail(new CompactedError(this.fromRevision, compactRevision));
      return;
    }
    if (res.canceled) {
      this.fail(new WatchCancelledError(`etcd cancelled the watch: ${res.cancel_reason || '-'}`));
      return;
    }
    if (res.created) {
      this.handler.onStarted?.();
      return;
    }
    const events: WatchEvent[] = (res.events ?? []).map((ev) => {
      const prev = ev.prev_kv ? fromEtcd(ev.prev_kv) : undefined;
      if (ev.type === 'Delete') {
        const base = {
          type: 'delete' as const,
          key: ev.kv.key.toString(),
          modRevision: Number(ev.kv.mod_revision),
        };
        return prev ? { ...base, prev } : base;
      }
      const kv = fromEtcd(ev.kv);
      return prev ? { type: 'put' as const, kv, prev } : { type: 'put' as const, kv };
    });
    this.deliverByRevision(events);
  }

  /**
   * etcd may pack several transactions into one response; the port promises one batch per
   * transaction, so a consumer that checkpoints after a batch never stands inside one.
   */
  private deliverByRevision(events: WatchEvent[]): void {
    let start = 0;
    while (start < events.length && !this.done) {
      const revision = revisionOf(events[start]!);
      let end = start + 1;
      while (end < events.length && revisionOf(events[end]!) === revision) end++;
      this.handler.onEvents(events.slice(start, end), revision);
      start = end;
    }
    // A response without events is a progress report. It is not passed on: etcd before
    // 3.4.24 / 3.5.8 can answer a requested progress report with a revision ahead of events it
    // has not sent yet, and a consumer that resumed from that revision would skip them. The
    // revision of the last event delivered is always a safe place to resume from.
  }

  private fail(error: WatchError): void {
    if (this.done) return;
    this.done = true;
    clearInterval(this.ticker);
    this.stream?.cancel();
    this.handler.onError(error);
  }
}

function guardHolds(guard: Guard, current: KeyValue | undefined): boolean {
  if ('modRevision' in guard) return (current?.modRevision ?? 0) === guard.modRevision;
  return (current?.createRevision ?? 0) === guard.createRevision;
}

function revisionOf(event: WatchEvent): number {
  return event.type === 'put' ? event.kv.modRevision : event.modRevision;
}

function fromEtcd(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
}

function toRequest(op: WriteOp): IRequestOp {
  const key = Buffer.from(op.key);
  if (op.type === 'put') return { request_put: { key, value: Buffer.from(toBytes(op.value)) } };
  return { request_delete_range: { key } };
}

function toCompare(key: Buffer, guard: Guard) {
  return 'modRevision' in guard
    ? { key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: guard.modRevision }
    : {
        key,
        target: 'Create' as const,
        result: 'Equal' as const,
        create_revision: guard.createRevision,
      };
}

/**
 * Sorts the client's errors into the store's: compaction, unavailability (the network, a
 * deadline, a closed connection: worth retrying) and everything else, passed on unchanged.
 */
function translateError(err: unknown, revision: number): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/compacted/i.test(message)) return new CompactedError(revision, 0, { cause: err });
  if (isUnavailable(err, message)) {
    return new StoreUnavailableError(`etcd is unavailable: ${message}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

/** A watch ends with one of the port's watch errors, whatever the client threw. */
function watchError(err: unknown): WatchError {
  const message = err instanceof Error ? err.message : String(err);
  if (/RESOURCE_EXHAUSTED|larger than max/i.test(message)) {
    return new WatchBacklogTooLargeError(`the watch backlog is too large: ${message}`, {
      cause: err,
    });
  }
  const error = translateError(err, 0);
  if (
    error instanceof CompactedError ||
    error instanceof StoreUnavailableError ||
    error instanceof WatchCancelledError
  ) {
    return error;
  }
  return new WatchCancelledError(`the watch failed: ${error.message}`, { cause: err });
}

function isUnavailable(err: unknown, message: string): boolean {
  const name = err instanceof Error ? err.constructor.name : '';
  return (
    name === 'GRPCUnavailableError' ||
    name === 'GRPCDeadlineExceededError' ||
    name === 'GRPCCancelledError' ||
    name === 'GRPCConnectFailedError' ||
    name === 'ClientClosedError' ||
    /unavailable|deadline|ECONNREFUSED|ECONNRESET|No connection|connect/i.test(message)
  );
}
