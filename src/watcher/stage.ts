import type { Clock, Timer } from '../clock.js';
import { CompactedError, WatchBacklogTooLargeError } from '../errors.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import {
  ALERT_KIND,
  DESTINATION_KIND,
  POLICY_KIND,
  decodeObject,
  normalizePrefix,
} from '../model/index.js';
import type { KeyValue, Store, Watch, WatchError, WatchEvent } from '../store/index.js';
import type { ObjectCache } from './cache.js';

/** Where the watcher sends what it reads, already sorted by kind. */
export interface WatcherOutput {
  /** Start-up: everything the initial list found, in this order: alerts, destinations, policies. */
  sync(snapshot: { alerts: KeyValue[]; destinations: KeyValue[]; policies: KeyValue[] }): void;
  objects(keys: string[]): void;
  policies(events: WatchEvent[]): void;
  destinations(events: WatchEvent[]): void;
  alerts(events: WatchEvent[]): void;
}

export interface WatcherOptions {
  readonly store: Store;
  readonly prefix: string;
  readonly cache: ObjectCache;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly out: WatcherOutput;
  /** Runs a continuation in the watcher's own turn; dropped once the stage is gone. */
  readonly schedule: (work: () => void) => void;
  readonly setReady: (ready: boolean) => void;
  readonly pageSize?: number;
  /**
   * A snapshot to start from instead of listing etcd: the state of an earlier run at some
   * revision. Undefined when there is none or it could not be read; then the stage lists.
   */
  readonly resume?: () => Promise<WatcherSnapshot | undefined>;
  /**
   * Work handed downstream and not done yet. Actor mailboxes have no bound, so the watcher
   * is the one that holds back: past `highWater` it stops reading etcd until the backlog is
   * under `lowWater`, then resumes the watch from the last revision it processed.
   */
  readonly backlog?: () => number;
  readonly highWater?: number;
  readonly lowWater?: number;
}

const HIGH_WATER = 10_000;
const LOW_WATER = 2_000;
/** How often a paused watcher looks at the backlog again. */
const DRAIN_POLL_MS = 50;

/**
 * The watcher's state at one revision: every key under the prefix it knew, as etcd held it.
 * Starting from it is starting from a list taken at `revision`; the watch then replays what
 * changed since, deletes included, or (when that history is compacted) a relist and diff
 * turns the difference into events.
 */
export interface WatcherSnapshot {
  readonly revision: number;
  /** `[key, value, createRevision, modRevision, version]` of each key. */
  readonly items: ReadonlyArray<[string, Uint8Array, number, number, number]>;
}

type Class = 'object' | 'policy' | 'destination' | 'alert';

/**
 * Lists everything under the prefix in pages, then watches from the list's revision + 1, and
 * keeps the object cache. When the watch breaks it resumes from the last revision it has
 * fully processed; when that revision is compacted it lists again and diffs against what it
 * knew, so changes (deletes included) it never saw as events still arrive downstream.
 */
export class WatcherStage {
  private readonly prefix: string;
  /** mod_revision of every known key that is not a managed object (those are in the cache). */
  private readonly others = new Map<string, { kv: KeyValue; cls: Exclude<Class, 'object'> }>();
  private readonly rejected = new Map<string, number>();
  private watch: Watch | undefined;
  private revision = 0;
  private synced = false;
  private closed = false;
  private retryTimer: Timer | undefined;
  private attempt = 0;
  private paused = false;

  constructor(private readonly o: WatcherOptions) {
    this.prefix = `${normalizePrefix(o.prefix)}/`;
  }

  get processedRevision(): number {
    return this.revision;
  }

  start(): void {
    void this.begin();
  }

  /** The state to snapshot, taken in the stage's turn; undefined before the first list. */
  snapshot(): WatcherSnapshot | undefined {
    if (!this.synced) return undefined;
    const items: Array<[string, Uint8Array, number, number, number]> = [];
    for (const key of this.o.cache.keys()) {
      const cached = this.o.cache.get(key)!;
      // Objects are kept parsed; their JSON text is all a restart needs of them.
      items.push([key, Buffer.from(JSON.stringify(cached.object)), 0, cached.modRevision, 0]);
    }
    for (const { kv } of this.others.values()) {
      items.push([kv.key, kv.value, kv.createRevision, kv.modRevision, kv.version]);
    }
    return { revision: this.revision, items };
  }

  private async begin(): Promise<void> {
    const snapshot = await this.o.resume?.().catch(() => undefined);
    if (!snapshot) {
      await this.list();
      return;
    }
    this.o.schedule(() => {
      const items = snapshot.items.map(([key, value, createRevision, modRevision, version]) => ({
        key,
        value,
        createRevision,
        modRevision,
        version,
      }));
      this.o.log.info({ [F.revision]: snapshot.revision }, 'resuming from snapshot');
      this.initial(items);
      this.revision = snapshot.revision;
      this.startWatch();
    });
  }

  close(): void {
    this.closed = true;
    this.watch?.cancel();
    this.watch = undefined;
    if (this.retryTimer) this.o.clock.clearTimer(this.retryTimer);
    this.o.setReady(false);
  }

  /** Lists everything; the first time it feeds the stages, later it diffs against them. */
  private async list(): Promise<void> {
    let page: { items: KeyValue[]; revision: number };
    try {
      page = await this.o.store.list(this.prefix, { pageSize: this.o.pageSize ?? 1000 });
    } catch (err) {
      this.o.schedule(() => this.retry('list', err, () => void this.list()));
      return;
    }
    this.o.schedule(() => {
      if (this.synced) this.diff(page.items);
      else this.initial(page.items);
      this.revision = page.revision;
      this.startWatch();
    });
  }

  private initial(items: KeyValue[]): void {
    const snapshot = {
      alerts: [] as KeyValue[],
      destinations: [] as KeyValue[],
      policies: [] as KeyValue[],
    };
    for (const kv of items) {
      const cls = this.classify(kv.key);
      if (!cls) continue;
      if (cls === 'object') this.cacheObject(kv);
      else {
        this.others.set(kv.key, { kv, cls });
        const list =
          cls === 'alert'
            ? snapshot.alerts
            : cls === 'policy'
              ? snapshot.policies
              : snapshot.destinations;
        list.push(kv);
      }
    }
    this.synced = true;
    this.o.log.info(
      {
        objects: this.o.cache.size,
        policies: snapshot.policies.length,
        alerts: snapshot.alerts.length,
      },
      'initial list loaded',
    );
    this.o.out.sync(snapshot);
  }

  /** After a relist: turns the difference between the listing and what is known into events. */
  private diff(items: KeyValue[]): void {
    const events: WatchEvent[] = [];
    const seen = new Set<string>();
    for (const kv of items) {
      seen.add(kv.key);
      const known =
        this.o.cache.get(kv.key)?.modRevision ?? this.others.get(kv.key)?.kv.modRevision;
      if (known !== kv.modRevision) events.push({ type: 'put', kv });
    }
    for (const key of [...this.o.cache.keys(), ...this.others.keys()]) {
      if (!seen.has(key)) events.push({ type: 'delete', key, modRevision: this.revision });
    }
    this.o.log.info({ changes: events.length }, 'relisted after the watch broke');
    if (events.length > 0) this.apply(events);
  }

  private startWatch(): void {
    if (this.closed) return;
    this.watch = this.o.store.watch(this.prefix, this.revision + 1, {
      // Ready only once etcd has accepted the watch, not merely when it was asked for.
      onStarted: () => this.o.schedule(() => this.onStarted()),
      onEvents: (events, revision) => this.o.schedule(() => this.onEvents(events, revision)),
      onError: (error) => this.o.schedule(() => this.onWatchError(error)),
    });
  }

  private onStarted(): void {
    if (this.closed) return;
    this.attempt = 0;
    this.o.setReady(true);
  }

  private onEvents(events: WatchEvent[], revision: number): void {
    if (this.closed) return;
    if (events.length > 0) this.apply(events);
    this.revision = Math.max(this.revision, revision);
    this.holdBackIfBehind();
  }

  private holdBackIfBehind(): void {
    if (this.paused || !this.watch || !this.o.backlog) return;
    const backlog = this.o.backlog();
    if (backlog < (this.o.highWater ?? HIGH_WATER)) return;
    this.paused = true;
    this.watch.cancel();
    this.watch = undefined;
    this.o.metrics.watchPauses.inc();
    this.o.log.info(
      { backlog, [F.revision]: this.revision },
      'downstream is behind: pausing the watch',
    );
    this.waitForDrain();
  }

  private waitForDrain(): void {
    this.retryTimer = this.o.clock.setTimer(DRAIN_POLL_MS, () =>
      this.o.schedule(() => {
        if (this.closed) return;
        if (this.o.backlog!() > (this.o.lowWater ?? LOW_WATER)) {
          this.waitForDrain();
          return;
        }
        this.paused = false;
        this.o.log.info({ [F.revision]: this.revision }, 'backlog drained: resuming the watch');
        this.startWatch();
      }),
    );
  }

  private onWatchError(error: WatchError): void {
    if (this.closed) return;
    this.watch = undefined;
    this.o.setReady(false);
    const compacted = error instanceof CompactedError;
    // Too far behind to catch up through the watch: a paged list and a diff catch up instead.
    const tooFar = error instanceof WatchBacklogTooLargeError;
    const reason = compacted ? 'compacted' : tooFar ? 'backlog' : 'cancelled';
    this.o.metrics.watchRestarts.inc({ reason });
    this.o.log.warn({ [F.revision]: this.revision, [F.err]: error.message }, 'watch broke');
    if (compacted || tooFar) void this.list();
    else this.retry('watch', error, () => this.startWatch());
  }

  /** Retries with exponential backoff (100 ms doubling to 5 s); etcd may simply be down. */
  private retry(what: string, err: unknown, again: () => void): void {
    if (this.closed) return;
    this.attempt++;
    const delay = Math.min(5_000, 100 * 2 ** Math.min(this.attempt, 6));
    if (this.attempt === 1 || this.attempt % 10 === 0) {
      this.o.log.warn(
        { [F.attempt]: this.attempt, [F.err]: String(err) },
        `${what} failed; retrying`,
      );
    }
    this.retryTimer = this.o.clock.setTimer(delay, () => this.o.schedule(again));
  }

  /** Sorts a batch by kind and hands each part downstream, objects first. */
  private apply(events: WatchEvent[]): void {
    const objects: string[] = [];
    const parts: Record<'policy' | 'destination' | 'alert', WatchEvent[]> = {
      policy: [],
      destination: [],
      alert: [],
    };
    for (const event of events) {
      const key = event.type === 'put' ? event.kv.key : event.key;
      const cls = event.type === 'put' ? this.classify(key) : this.classOfKnown(key);
      if (!cls) continue;
      this.o.metrics.eventsReceived.inc({ class: cls });
      if (cls === 'object') {
        const changed =
          event.type === 'put' ? this.cacheObject(event.kv) : !!this.o.cache.delete(key);
        if (changed) objects.push(key);
        continue;
      }
      if (event.type === 'put') this.others.set(key, { kv: event.kv, cls });
      else this.others.delete(key);
      parts[cls].push(event);
    }
    if (objects.length > 0) this.o.out.objects(objects);
    if (parts.destination.length > 0) this.o.out.destinations(parts.destination);
    if (parts.policy.length > 0) this.o.out.policies(parts.policy);
    if (parts.alert.length > 0) this.o.out.alerts(parts.alert);
  }

  /** Returns true when the cache changed. An invalid object keeps its last good version. */
  private cacheObject(kv: KeyValue): boolean {
    try {
      const { ref, object } = decodeObject(this.prefix, kv.key, kv.value);
      this.rejected.delete(kv.key);
      this.o.cache.set({ key: kv.key, ref, object, modRevision: kv.modRevision });
      return true;
    } catch (err) {
      this.reject(kv.key, kv.modRevision, err);
      return false;
    }
  }

  private classify(key: string): Class | undefined {
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf('/');
    const kind = slash > 0 ? rest.slice(0, slash) : '';
    // A key that is not <Kind>/<tenant>/<name> is rejected by decodeObject for objects;
    // for the alert kinds their own stages validate.
    if (kind === POLICY_KIND) return 'policy';
    if (kind === DESTINATION_KIND) return 'destination';
    if (kind === ALERT_KIND) return 'alert';
    return 'object';
  }

  private classOfKnown(key: string): Class | undefined {
    if (this.o.cache.has(key)) return 'object';
    return this.others.get(key)?.cls;
  }

  private reject(key: string, revision: number, err: unknown): void {
    if (this.rejected.get(key) === revision) return;
    this.rejected.set(key, revision);
    const message = err instanceof Error ? err.message : String(err);
    const reason = /JSON|UTF-8/.test(message)
      ? 'json'
      : /disagrees/.test(message)
        ? 'mismatch'
        : 'key';
    this.o.metrics.rejectedObjects.inc({ reason });
    this.o.log.warn(
      { [F.key]: key, [F.revision]: revision, [F.err]: message },
      'skipping invalid object',
    );
  }
}
