import type { Clock, Timer } from '../clock.js';
import { AlertmgrError } from '../errors.js';
import type { Logger } from '../log.js';
import { F } from '../log.js';
import type { Metrics } from '../metrics.js';
import { ALERT_KIND, decodeAlert, decodeObject, formatKey, type Alert } from '../model/index.js';
import {
  MAX_TXN_OPS,
  type GuardedWrite,
  type KeyValue,
  type Store,
  type WriteOp,
} from '../store/index.js';
import type { AlertEvent, Notification } from '../exporter/types.js';
import type { AlertBook, Entry } from './book.js';
import { applyIntents } from './lifecycle.js';

export type Steps = ReadonlyArray<{ event: AlertEvent; alert: Alert }>;

/** A committed state change, with its notifications, ready to be sent to destinations. */
export interface Committed {
  readonly entry: Entry;
  readonly notifications: readonly Notification[];
}

export interface WriterOptions {
  readonly store: Store;
  readonly prefix: string;
  readonly book: AlertBook;
  readonly log: Logger;
  readonly metrics: Metrics;
  /**
   * Runs a continuation in the alert stage's own turn (its actor mailbox), so the book is
   * only ever changed by one stage at a time; returns false when the stage is gone.
   */
  readonly schedule: (work: () => void) => void;
  readonly onCommitted: (changes: Committed[]) => void;
  /** Found an alert opened `count` more times by someone else than this process knew. */
  readonly onForeignOpenings: (entry: Entry, count: number) => void;
  /**
   * A write failed for a reason that retrying will not fix. A write that failed because etcd
   * is unreachable or slow is retried here instead, with backoff, for as long as it takes:
   * an etcd outage must not use up the supervisor's restart budget.
   */
  readonly onFailure: (error: unknown) => void;
  readonly clock: Clock;
  /** The notifications announcing an alert's state changes. */
  readonly describe: (entry: Entry, steps: Steps) => Notification[];
  /**
   * Durable records of a notification, written in the same transaction as the alert change
   * it announces: the notification exists exactly when the change does.
   */
  readonly records: (notification: Notification) => WriteOp[];
  readonly maxConflicts?: number;
}

interface Planned {
  readonly entry: Entry;
  readonly sending: number;
  readonly alert: Alert | undefined;
  readonly notifications: readonly Notification[];
  readonly records: readonly WriteOp[];
}

/**
 * A few batches in flight at once hide etcd's round trip; more would only queue in etcd.
 */
const MAX_IN_FLIGHT = 4;

/**
 * Writes alerts to etcd in batched transactions. Writes for one alert stay in order: an alert
 * is in at most one batch at a time, whatever the number of batches in flight. Each write is
 * guarded by the alert's mod_revision as last seen, so a concurrent change by a user is
 * never overwritten: the write is refused, the alert is re-read from the refusal, and its
 * pending intents are applied again on top of the user's version.
 */
export class AlertWriter {
  private readonly dirty = new Set<string>();
  /** Batches sent and not answered yet. */
  private inFlight = 0;
  private closed = false;
  /** Consecutive failed batches, for the backoff; 0 after a batch goes through. */
  private failures = 0;
  private retryTimer: Timer | undefined;
  /** Alerts whose last write failed without an answer, as planned: it may have happened. */
  private readonly uncertain = new Map<string, Planned>();
  private readonly maxConflicts: number;

  constructor(private readonly options: WriterOptions) {
    this.maxConflicts = options.maxConflicts ?? 10;
  }

  get pending(): number {
    return this.dirty.size;
  }

  get busy(): boolean {
    return this.inFlight > 0 || this.dirty.size > 0;
  }

  /** Marks an entry as having intents to write, and starts a batch if none is in flight. */
  enqueue(entry: Entry): void {
    this.dirty.add(entry.name);
    this.kick();
  }

  close(): void {
    this.closed = true;
    this.dirty.clear();
    if (this.retryTimer) this.options.clock.clearTimer(this.retryTimer);
  }

  kick(): void {
    while (this.inFlight < MAX_IN_FLIGHT && !this.retryTimer && !this.closed) {
      if (this.dirty.size === 0) return;
      const planned = this.plan();
      if (planned.length === 0) return;
      this.send(planned);
    }
  }

  private send(planned: Planned[]): void {
    this.inFlight++;
    const writes = planned.map((p) => this.toWrite(p));
    this.options.metrics.batchSize.observe(writes.length);
    this.options.store.batch(writes).then(
      (result) =>
        this.settle(() => {
          this.inFlight--;
          this.failures = 0;
          this.applyResult(planned, result.revision, result.results);
          this.kick();
        }),
      (error: unknown) =>
        this.settle(() => {
          this.inFlight--;
          this.options.metrics.alertWrites.inc({ result: 'error' }, planned.length);
          for (const p of planned) {
            p.entry.sending = 0;
            this.dirty.add(p.entry.name);
            this.uncertain.set(p.entry.name, p);
          }
          if (error instanceof AlertmgrError && error.retryable) this.retryLater(error);
          else this.options.onFailure(error);
        }),
    );
  }

  /**
   * Applies a batch's outcome at once rather than behind the alert stage's queued messages:
   * under load a whole round of verdicts would otherwise sit between a write and the next
   * one. This is safe because every step of the alert stage is synchronous, so nothing of
   * the stage is ever half done when this runs; a stage that is gone ignores it.
   */
  private settle(apply: () => void): void {
    if (this.closed) return;
    try {
      apply();
    } catch (err) {
      this.options.onFailure(err);
    }
  }

  /** Backs off 200 ms doubling to 5 s; the intents stay queued and nothing is lost. */
  private retryLater(error: AlertmgrError): void {
    this.failures++;
    const delay = Math.min(5_000, 200 * 2 ** Math.min(this.failures - 1, 5));
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.options.log.warn(
        { [F.attempt]: this.failures, [F.err]: error.message, retryInMs: delay },
        'alert write failed; retrying',
      );
    }
    this.retryTimer = this.options.clock.setTimer(delay, () =>
      this.options.schedule(() => {
        this.retryTimer = undefined;
        this.kick();
      }),
    );
  }

  /** Picks up to one transaction's worth of entries and computes what to write for each. */
  private plan(): Planned[] {
    const planned: Planned[] = [];
    const { book } = this.options;
    let ops = 0;
    for (const name of this.dirty) {
      // The largest plan is one alert write and a record per destination of its policy.
      if (ops >= MAX_TXN_OPS) break;
      const entry = book.get(name);
      // An alert already in a batch in flight waits for its answer: its writes stay in order.
      if (entry && entry.sending > 0) continue;
      this.dirty.delete(name);
      if (!entry || entry.intents.length === 0) continue;

      const { alert, steps } = applyIntents(entry.committed, entry.intents);
      // Intents that change nothing (open on an open alert, say) cost no write.
      if (alert === entry.committed || (!alert && entry.committedRev === 0)) {
        entry.intents = [];
        book.refresh(entry);
        book.dropIfIdle(entry);
        continue;
      }
      const notifications = this.options.describe(entry, steps);
      const records = notifications.flatMap((n) => this.options.records(n));
      if (ops > 0 && ops + 1 + records.length > MAX_TXN_OPS) {
        this.dirty.add(name);
        break;
      }
      ops += 1 + records.length;
      entry.sending = entry.intents.length;
      planned.push({ entry, sending: entry.sending, alert, notifications, records });
    }
    return planned;
  }

  private toWrite(p: Planned): GuardedWrite {
    const key = formatKey(this.options.prefix, {
      kind: ALERT_KIND,
      tenant: p.entry.tenant,
      name: p.entry.name,
    });
    const guard = { modRevision: p.entry.committedRev };
    const also = p.records;
    if (!p.alert) return { op: { type: 'delete', key }, guard, also };
    return { op: { type: 'put', key, value: JSON.stringify(p.alert) }, guard, also };
  }

  private applyResult(
    planned: Planned[],
    revision: number,
    results: ReadonlyArray<{ ok: boolean; current?: KeyValue }>,
  ): void {
    const { book, log, metrics } = this.options;
    const committed: Committed[] = [];
    planned.forEach((p, i) => {
      const entry = p.entry;
      const result = results[i];
      entry.sending = 0;
      const retried = this.uncertain.delete(entry.name);
      if (!result?.ok && retried && landed(p.alert, result?.current?.value)) {
        // An earlier try of this very write reached etcd, but its answer was lost: the write
        // is done, and what it announces must still be announced (and counted).
        committed.push(this.commit(entry, p, result!.current?.modRevision ?? 0));
      } else if (result?.ok) {
        committed.push(this.commit(entry, p, revision));
      } else {
        metrics.alertWrites.inc({ result: 'conflict' });
        this.rebase(entry, result?.current);
      }
      book.refresh(entry);
      if (entry.intents.length > 0) this.dirty.add(entry.name);
      const deferred = entry.deferred.splice(0);
      for (const replay of deferred) replay();
      book.dropIfIdle(entry);
    });
    if (committed.length > 0) this.options.onCommitted(committed);
    if (planned.some((p) => p.entry.conflicts > 0)) {
      log.debug(
        { count: planned.filter((p) => p.entry.conflicts > 0).length },
        'alert write conflicts',
      );
    }
  }

  private commit(entry: Entry, p: Planned, revision: number): Committed {
    this.options.metrics.alertWrites.inc({ result: 'ok' });
    entry.committed = p.alert;
    entry.committedRev = p.alert ? revision : 0;
    entry.intents = entry.intents.slice(p.sending);
    entry.conflicts = 0;
    return { entry, notifications: p.notifications };
  }

  /**
   * A change to an alert seen on the watch. When it is the write whose answer was lost, that
   * write is done: it is committed and announced here, and true says the watch event needs
   * nothing more.
   */
  acceptEcho(entry: Entry, value: Uint8Array | undefined, modRevision: number): boolean {
    const lost = this.uncertain.get(entry.name);
    if (!lost || entry.sending > 0 || !landed(lost.alert, value)) return false;
    this.uncertain.delete(entry.name);
    const committed = this.commit(entry, lost, modRevision);
    this.options.book.refresh(entry);
    this.options.onCommitted([committed]);
    return true;
  }

  /** Takes the alert's current state from a refused write, to apply the intents again. */
  private rebase(entry: Entry, current: KeyValue | undefined): void {
    entry.conflicts++;
    if (entry.conflicts > this.maxConflicts) {
      this.options.log.warn(
        { [F.alert]: entry.name, attempt: entry.conflicts },
        'alert keeps changing under its writes; dropping the pending change',
      );
      entry.intents = [];
    }
    if (!current) {
      entry.committed = undefined;
      entry.committedRev = 0;
      return;
    }
    try {
      const decoded = decodeObject(this.options.prefix, current.key, current.value);
      const before = entry.committed;
      entry.committed = decodeAlert(decoded.ref, decoded.object);
      entry.committedRev = current.modRevision;
      // Openings another writer made (an earlier run, past the snapshot this one resumed
      // from) still count for the policy; their watch events will be skipped as known.
      const opened = entry.committed.status.totalHits - (before?.status.totalHits ?? 0);
      if (opened > 0) this.options.onForeignOpenings(entry, opened);
    } catch (err) {
      // An alert someone overwrote with garbage is replaced: it is alertmgr's to write.
      this.options.log.warn({ [F.alert]: entry.name, [F.err]: err }, 'invalid alert in etcd');
      entry.committed = undefined;
      entry.committedRev = current.modRevision;
    }
  }
}

/**
 * Whether etcd holds what a write whose answer was lost meant to write. Planning the same
 * intents again gives byte for byte the same alert (their times are fixed in the intents), so
 * an exact match means that write, and not another, put it there. For a delete: the alert
 * is gone.
 */
function landed(alert: Alert | undefined, value: Uint8Array | undefined): boolean {
  if (!alert) return value === undefined;
  return value !== undefined && Buffer.from(value).toString() === JSON.stringify(alert);
}
