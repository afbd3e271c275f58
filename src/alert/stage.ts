import type { Clock, Timer } from '../clock.js';
import type { Notification } from '../exporter/types.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import {
  alertName,
  decodeAlert,
  decodeObject,
  formatKey,
  type Alert,
  type MatchedRequirement,
  type ObjectRef,
} from '../model/index.js';
import type { Store, WatchEvent, WriteOp } from '../store/index.js';
import type { ObjectCache } from '../watcher/cache.js';
import { Announcer } from './announcer.js';
import type { AlertSnapshot, PolicyInfo, Verdicts, Waiting } from './types.js';
import { AlertBook, type Entry } from './book.js';
import { isActive, SYSTEM_USER, type Intent } from './lifecycle.js';
import { PolicyStatusWriter } from './status.js';
import { Deadlines } from './timers.js';
import { AlertWriter, type Committed } from './writer.js';

export interface AlertStageOptions {
  readonly store: Store;
  readonly prefix: string;
  readonly objects: ObjectCache;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly gcRetentionMs: number;
  readonly gcIntervalMs: number;
  /** How often policy status counters are brought up to date. */
  readonly statusIntervalMs?: number;
  readonly schedule: (work: () => void) => void;
  readonly notify: (notification: Notification) => void;
  /** The outbox writes that make a notification durable (none when it goes nowhere). */
  readonly records: (notification: Notification) => WriteOp[];
  readonly onFailure: (error: unknown) => void;
}

/**
 * The alert lifecycle: opens alerts after persistenceDuration, resolves them after
 * clearDuration, reopens, deletes them with their object or policy, collects old resolved
 * ones, and follows users' acknowledgements. It keeps the alert book, the delays and the
 * per-policy counters; writes go through `AlertWriter`.
 */
export class AlertStage {
  readonly book = new AlertBook();
  private readonly policies = new Map<string, PolicyInfo>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly deadlines: Deadlines;
  private readonly writer: AlertWriter;
  private readonly status: PolicyStatusWriter;
  private readonly announcer: Announcer;
  /** Invalid alert keys with the revision last logged, so each version is logged once. */
  private readonly invalidLogged = new Map<string, number>();
  private gcTimer: Timer | undefined;

  constructor(private readonly o: AlertStageOptions) {
    this.announcer = new Announcer({ ...o, policy: (id) => this.policies.get(id) });
    this.deadlines = new Deadlines(o.clock, (pairs) => o.schedule(() => this.onDue(pairs)));
    this.writer = new AlertWriter({
      store: o.store,
      prefix: o.prefix,
      book: this.book,
      log: o.log,
      metrics: o.metrics,
      schedule: o.schedule,
      onCommitted: (changes) => this.onCommitted(changes),
      onForeignOpenings: (entry, count) => this.countOpenings(entry, count),
      onFailure: o.onFailure,
      clock: o.clock,
      describe: (entry, steps) => this.announcer.describe(entry, steps),
      records: o.records,
    });
    this.status = new PolicyStatusWriter({
      store: o.store,
      prefix: o.prefix,
      clock: o.clock,
      log: o.log,
      intervalMs: o.statusIntervalMs ?? 1_000,
      schedule: o.schedule,
      counts: (policyId) => this.book.countsOf(policyId),
    });
  }

  /** Alerts with a write waiting: part of the backlog the watcher holds back for. */
  get backlog(): number {
    return this.writer.pending;
  }

  /** True while writes are queued or in flight (used to drain on shutdown). */
  get busy(): boolean {
    return this.writer.busy || this.status.busy;
  }

  /** Loads the alerts found by the initial list. */
  load(items: ReadonlyArray<{ key: string; value: Uint8Array; modRevision: number }>): void {
    for (const kv of items) this.observePut(kv.key, kv.value, kv.modRevision, false);
  }

  snapshot(): AlertSnapshot {
    const waiting = [...this.waiting].map(([pair, w]) => ({
      ...w,
      due: this.deadlines.due(pair) ?? this.o.clock.now(),
    }));
    return { waiting, hits: this.status.hits() };
  }

  /**
   * Takes back the delays and hit counts of an earlier run, before anything is evaluated. A
   * delay is kept with its original deadline, so a restart neither shortens nor restarts
   * it; the start-up evaluation then cancels the ones whose condition no longer holds.
   */
  restore(snapshot: AlertSnapshot): void {
    for (const { due, ...w } of snapshot.waiting) {
      const pair = pairKey(w.policyId, w.objectKey);
      this.waiting.set(pair, { ...w, matched: [...w.matched] });
      this.deadlines.set(pair, due);
    }
    this.status.restoreHits(snapshot.hits);
  }

  upsertPolicy(info: PolicyInfo): void {
    this.policies.set(info.id, info);
    this.status.track(info.id, info.key, info.storedHits);

    const names = this.book.namesOfPolicy(info.id);
    // Compared with each alert rather than with the previous version of the policy: at
    // start-up there is no previous version, yet the policy may have changed while
    // alertmgr was down.
    for (const name of names) {
      const entry = this.book.get(name)!;
      const status = entry.view?.status;
      if (status && (status.severity !== info.severity || status.message !== info.message)) {
        this.addIntent(entry, { type: 'refresh', severity: info.severity, message: info.message });
      }
    }
    // Alerts the policy can no longer be the cause of clear as if their object stopped
    // matching: the policy was disabled or now applies to another kind.
    for (const name of names) {
      const entry = this.book.get(name)!;
      if (!info.enabled || entry.objectRef.kind !== info.resource) this.noMatch(entry.name, entry);
    }
    if (!info.enabled) this.dropWaitingOpens(info.id);
  }

  /** The policy was deleted (or got a new id, or became invalid): its alerts go. */
  removePolicy(id: string): void {
    this.policies.delete(id);
    this.dropWaitingOpens(id);
    for (const name of this.book.namesOfPolicy(id)) {
      const entry = this.book.get(name)!;
      this.cancelWaiting(pairOf(entry));
      this.addIntent(entry, { type: 'delete' });
    }
    this.status.untrack(id);
  }

  /** Records a policy that failed validation, so its status shows why. */
  invalidPolicy(key: string, error: string): void {
    this.status.setError(key, error);
  }

  validPolicyKey(key: string): void {
    this.status.setError(key, '');
  }

  forgetPolicyKey(key: string): void {
    this.status.forgetKey(key);
  }

  applyVerdicts(verdicts: Verdicts): void {
    const policy = this.policies.get(verdicts.policyId);
    if (!policy) return;
    // Most evaluated objects match nothing and have no alert: they cost two lookups here,
    // not a composed key per object (this runs for every policy of every change).
    const alerts = this.book.namesByObject(policy.id);
    for (const objectKey of verdicts.evaluated) {
      const match = verdicts.matches.get(objectKey);
      if (match && policy.enabled) {
        this.matched(policy, objectKey, match.ref, match.matched);
        continue;
      }
      const name = alerts?.get(objectKey);
      if (name) this.noMatch(name, this.book.get(name)!);
      else if (this.waiting.size > 0) this.cancelWaiting(pairKey(policy.id, objectKey));
    }
  }

  /** Managed objects that were deleted: their alerts go with them. */
  objectsGone(keys: readonly string[]): void {
    const gone = new Set(keys);
    for (const key of keys) {
      for (const name of this.book.namesOfObject(key)) {
        this.addIntent(this.book.get(name)!, { type: 'delete' });
      }
    }
    for (const [pair, w] of this.waiting) {
      if (gone.has(w.objectKey)) this.cancelWaiting(pair);
    }
  }

  /**
   * After the start-up evaluation: alerts whose policy or object no longer exists were left
   * behind while alertmgr was down, and are deleted now.
   */
  reconcile(): void {
    for (const entry of [...this.book.values()]) {
      if (!entry.committed) continue;
      const orphan = !this.policies.has(entry.policyId) || !this.o.objects.has(entry.objectKey);
      if (orphan) this.addIntent(entry, { type: 'delete' });
    }
    this.status.seedHits((policyId) => this.book.hitsOf(policyId));
    this.startGc();
    this.status.start();
  }

  /** Alert changes seen on the watch: users' acknowledgements and resolutions, and echoes. */
  alertEvents(events: readonly WatchEvent[]): void {
    for (const event of events) {
      if (event.type === 'put') {
        this.observePut(event.kv.key, event.kv.value, event.kv.modRevision, true);
      } else {
        this.observeDelete(event.key, event.modRevision);
      }
    }
  }

  close(): void {
    this.deadlines.close();
    this.writer.close();
    this.status.close();
    if (this.gcTimer) this.o.clock.clearTimer(this.gcTimer);
  }

  /** Runs garbage collection now (also run every gcInterval). */
  collectGarbage(): void {
    const before = this.o.clock.now() - this.o.gcRetentionMs;
    for (const entry of this.book.values()) {
      if (entry.view?.spec.state === 'resolved') {
        this.addIntent(entry, { type: 'collect', resolvedBefore: before });
      }
    }
  }

  private matched(
    policy: PolicyInfo,
    objectKey: string,
    ref: ObjectRef,
    matched: MatchedRequirement[],
  ): void {
    const pair = pairKey(policy.id, objectKey);
    const name = this.book.nameFor(policy.id, objectKey) ?? alertName(policy.id, ref);
    const entry = this.book.get(name);
    const waiting = this.waiting.get(pair);
    if (isActive(entry?.view)) {
      // Matching again inside clearDuration keeps the alert open, with no write.
      if (waiting?.kind === 'clear') this.cancelWaiting(pair);
      return;
    }
    if (policy.persistenceMs === 0) {
      this.open(policy, name, objectKey, ref, matched);
      return;
    }
    if (waiting?.kind === 'open') {
      waiting.matched = matched;
      return;
    }
    this.waiting.set(pair, { kind: 'open', name, policyId: policy.id, objectKey, ref, matched });
    this.deadlines.set(pair, this.o.clock.now() + policy.persistenceMs);
  }

  private noMatch(name: string, entry: Entry): void {
    const pair = pairOf(entry);
    const waiting = this.waiting.get(pair);
    if (waiting?.kind === 'open') this.cancelWaiting(pair);
    if (!isActive(entry.view) || waiting?.kind === 'clear') return;
    const policy = this.policies.get(entry.policyId);
    const clearMs = policy?.clearMs ?? 0;
    if (clearMs === 0) {
      this.addIntent(entry, { type: 'resolve', at: this.o.clock.now() });
      return;
    }
    this.waiting.set(pair, {
      kind: 'clear',
      name,
      policyId: entry.policyId,
      objectKey: entry.objectKey,
      ref: entry.objectRef,
      matched: [],
    });
    this.deadlines.set(pair, this.o.clock.now() + clearMs);
  }

  private onDue(pairs: string[]): void {
    for (const pair of pairs) {
      const waiting = this.waiting.get(pair);
      if (!waiting) continue;
      this.waiting.delete(pair);
      const name = waiting.name;
      const policy = this.policies.get(waiting.policyId);
      const entry = this.book.get(name);
      if (waiting.kind === 'open') {
        if (policy?.enabled && !isActive(entry?.view) && this.o.objects.has(waiting.objectKey)) {
          this.open(policy, name, waiting.objectKey, waiting.ref, waiting.matched);
        }
      } else if (entry && isActive(entry.view)) {
        this.addIntent(entry, { type: 'resolve', at: this.o.clock.now() });
      }
    }
  }

  private open(
    policy: PolicyInfo,
    name: string,
    objectKey: string,
    ref: ObjectRef,
    matched: MatchedRequirement[],
  ): void {
    const entry = this.book.getOrCreate({
      name,
      tenant: policy.tenant,
      policyId: policy.id,
      objectKey,
      objectRef: ref,
    });
    this.addIntent(entry, {
      type: 'open',
      name,
      tenant: policy.tenant,
      policyId: policy.id,
      severity: policy.severity,
      message: policy.message,
      object: ref,
      matched,
      at: this.o.clock.now(),
    });
  }

  private addIntent(entry: Entry, intent: Intent): void {
    entry.intents.push(intent);
    this.book.refresh(entry);
    this.writer.enqueue(entry);
  }

  private cancelWaiting(pair: string): void {
    this.waiting.delete(pair);
    this.deadlines.delete(pair);
  }

  private dropWaitingOpens(policyId: string): void {
    for (const [pair, w] of this.waiting) {
      if (w.policyId === policyId && w.kind === 'open') this.cancelWaiting(pair);
    }
  }

  private onCommitted(changes: Committed[]): void {
    for (const { entry, notifications } of changes) {
      for (const n of notifications) {
        if (n.event === 'open' || n.event === 'reopen') this.status.hit(entry.policyId);
        this.announcer.announce(entry, n);
      }
      this.status.touch(entry.policyId);
    }
  }

  private countOpenings(entry: Entry, count: number): void {
    for (let i = 0; i < count; i++) this.status.hit(entry.policyId);
    if (count > 0) this.status.touch(entry.policyId);
  }

  private observePut(key: string, value: Uint8Array, modRevision: number, live: boolean): void {
    let alert: Alert;
    try {
      const decoded = decodeObject(this.o.prefix, key, value);
      alert = decodeAlert(decoded.ref, decoded.object);
    } catch (err) {
      this.rejectAlert(key, modRevision, err);
      return;
    }
    const objectRef = alert.status.objectRef;
    const expected = alertName(alert.status.reason.policyId, objectRef);
    if (alert.meta.name !== expected) {
      // Not one of alertmgr's: its alert for that pair is named `expected`. Taking this one
      // in would make two alerts for one pair.
      this.rejectAlert(key, modRevision, new Error(`not an alert alertmgr wrote (${expected})`));
      return;
    }
    const entry = this.book.getOrCreate({
      name: String(alert.meta.name),
      tenant: String(alert.meta.tenant),
      policyId: alert.status.reason.policyId,
      objectKey: formatKey(this.o.prefix, objectRef),
      objectRef,
    });
    if (entry.sending > 0) {
      // Our own write may be echoing back before its result arrived; decide once it has.
      entry.deferred.push(() => this.observePut(key, value, modRevision, live));
      return;
    }
    if (this.writer.acceptEcho(entry, value, modRevision)) return;
    if (entry.committedRev >= modRevision) return;

    const before = entry.committed;
    entry.committed = alert;
    entry.committedRev = modRevision;
    this.book.refresh(entry);
    if (!live) return;

    // Openings this process did not write: an earlier run wrote them after the snapshot this
    // one resumed from. The policy counts every opening, whoever wrote it.
    this.countOpenings(entry, alert.status.totalHits - (before?.status.totalHits ?? 0));
    if (before?.spec.state === alert.spec.state) return;

    // A state change alertmgr did not make: a user acknowledged or resolved the alert. (A
    // resolve by System is an earlier run's, already announced by it.)
    if (alert.spec.state === 'resolved') this.cancelWaiting(pairOf(entry));
    const byUser = alert.spec.state !== 'resolved' || alert.status.resolved?.user !== SYSTEM_USER;
    if ((alert.spec.state === 'acknowledged' || alert.spec.state === 'resolved') && byUser) {
      this.announcer.userChange(entry, alert.spec.state, alert);
      this.status.touch(entry.policyId);
    }
  }

  private observeDelete(key: string, modRevision: number): void {
    const name = key.slice(key.lastIndexOf('/') + 1);
    const entry = this.book.get(name);
    if (!entry) return;
    if (entry.sending > 0) {
      entry.deferred.push(() => this.observeDelete(key, modRevision));
      return;
    }
    if (this.writer.acceptEcho(entry, undefined, 0)) {
      this.book.dropIfIdle(entry);
      return;
    }
    if (entry.committedRev === 0 || entry.committedRev >= modRevision) return;
    const last = entry.committed;
    entry.committed = undefined;
    entry.committedRev = 0;
    this.book.refresh(entry);
    this.cancelWaiting(pairOf(entry));
    if (last) this.announcer.userChange(entry, 'deleted', last);
    this.status.touch(entry.policyId);
    this.book.dropIfIdle(entry);
  }

  private rejectAlert(key: string, modRevision: number, err: unknown): void {
    if (this.invalidLogged.get(key) === modRevision) return;
    this.invalidLogged.set(key, modRevision);
    this.o.metrics.rejectedObjects.inc({ reason: 'alert' });
    this.o.log.warn({ [F.key]: key, [F.err]: String(err) }, 'skipping invalid alert');
  }

  private startGc(): void {
    const tick = () => {
      this.gcTimer = this.o.clock.setTimer(this.o.gcIntervalMs, () =>
        this.o.schedule(() => {
          this.collectGarbage();
          this.updateGauges();
          tick();
        }),
      );
    };
    tick();
  }

  /** Sets the alerts-by-state-and-severity gauge from the book. */
  private updateGauges(): void {
    for (const state of ['open', 'acknowledged', 'resolved']) {
      for (const severity of ['info', 'warn', 'critical']) {
        this.o.metrics.alerts.set({ state, severity }, 0);
      }
    }
    for (const entry of this.book.values()) {
      const alert = entry.committed;
      if (alert)
        this.o.metrics.alerts.inc({ state: alert.spec.state, severity: alert.status.severity });
    }
  }
}

/** Identity of a (policy, managed object) pair, for the delays that wait on it. */
function pairKey(policyId: string, objectKey: string): string {
  return `${policyId}\u0000${objectKey}`;
}

function pairOf(entry: Entry): string {
  return pairKey(entry.policyId, entry.objectKey);
}
