import { performance } from 'node:perf_hooks';

import type { EtcdStore, KeyValue, Watch, WatchEvent } from '../src/store/index.js';
import type { AlertRecord } from './audit.js';
import { pairOf } from './fleet.js';

/**
 * What the bench sees of the daemon's output: a watch on the Alert prefix, as any consumer
 * of alertmgr would have. Every alert write is timestamped on arrival (the end of the
 * end-to-end latency) and folded into a mirror of the alerts, so a scenario can ask whether
 * the alerts in etcd are the expected set without listing them again.
 */

export interface AlertWrite {
  /** `performance.now()` when the watch delivered the write. */
  readonly at: number;
  readonly key: string;
  readonly pair: string;
  readonly object: string;
  /** open, acknowledged, resolved, or deleted. */
  readonly state: string;
}

export class AlertMirror {
  /** Alert writes (puts and deletes) seen since the mirror opened. */
  writes = 0;
  firstWriteAt = 0;
  lastWriteAt = 0;
  /** Called with every write, in revision order. */
  onWrite: ((write: AlertWrite) => void) | undefined;
  private readonly byKey = new Map<string, AlertRecord>();
  /** Open (or acknowledged) alerts per pair; more than one would be a duplicate. */
  private readonly openPairs = new Map<string, number>();
  private readonly openByPolicy = new Map<string, number>();
  private watch: Watch | undefined;
  private revision = 0;
  private closed = false;
  private failure: Error | undefined;

  private constructor(
    private readonly store: EtcdStore,
    private readonly alertPrefix: string,
  ) {}

  /** Lists the alerts under `prefix` and watches every write from there on. */
  static async open(store: EtcdStore, prefix: string): Promise<AlertMirror> {
    const mirror = new AlertMirror(store, `${prefix}/Alert/`);
    const { items, revision } = await store.list(mirror.alertPrefix);
    for (const kv of items) mirror.apply(kv.key, decode(kv));
    mirror.revision = revision;
    await mirror.startWatch();
    return mirror;
  }

  /** Every alert as last seen. */
  records(): AlertRecord[] {
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Open alerts of one policy id. */
  openOf(policy: string): number {
    return this.openByPolicy.get(policy) ?? 0;
  }

  /** True when exactly the expected pairs have an open alert. Throws if the watch broke. */
  matches(expected: ReadonlySet<string>): boolean {
    if (this.failure) throw this.failure;
    if (this.openPairs.size !== expected.size) return false;
    for (const pair of expected) if (!this.openPairs.has(pair)) return false;
    return true;
  }

  /** Pairs that should be open and are not, plus pairs open that should not be. */
  mismatches(expected: ReadonlySet<string>): number {
    let n = 0;
    for (const pair of expected) if (!this.openPairs.has(pair)) n++;
    for (const pair of this.openPairs.keys()) if (!expected.has(pair)) n++;
    return n;
  }

  close(): void {
    this.closed = true;
    this.watch?.cancel();
  }

  private startWatch(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.watch = this.store.watch(this.alertPrefix, this.revision + 1, {
        onStarted: () => resolve(),
        onEvents: (events, revision) => {
          this.revision = revision;
          const at = performance.now();
          for (const event of events) this.onEvent(event, at);
        },
        onError: (error) => {
          if (this.closed) return;
          // A watch that breaks (etcd slow under a storm) resumes where it stopped.
          if (error.name === 'CompactedError') {
            this.failure = error;
            reject(error);
            return;
          }
          setTimeout(() => void this.startWatch().then(resolve, reject), 100);
        },
      });
    });
  }

  private onEvent(event: WatchEvent, at: number): void {
    this.writes++;
    if (this.firstWriteAt === 0) this.firstWriteAt = at;
    this.lastWriteAt = at;
    const key = event.type === 'put' ? event.kv.key : event.key;
    const record = event.type === 'put' ? decode(event.kv) : undefined;
    const before = this.byKey.get(key);
    this.apply(key, record);
    const seen = record ?? (before ? { ...before, state: 'deleted' } : undefined);
    if (seen && this.onWrite) {
      this.onWrite({ at, key, pair: seen.pair, object: objectOf(seen.pair), state: seen.state });
    }
  }

  private apply(key: string, record: AlertRecord | undefined): void {
    const before = this.byKey.get(key);
    if (before && isOpen(before.state)) this.count(before.pair, -1);
    if (record) {
      this.byKey.set(key, record);
      if (isOpen(record.state)) this.count(record.pair, +1);
    } else {
      this.byKey.delete(key);
    }
  }

  private count(pair: string, delta: number): void {
    const n = (this.openPairs.get(pair) ?? 0) + delta;
    if (n > 0) this.openPairs.set(pair, n);
    else this.openPairs.delete(pair);
    const policy = pair.slice(0, pair.indexOf('|'));
    this.openByPolicy.set(policy, (this.openByPolicy.get(policy) ?? 0) + delta);
  }
}

function isOpen(state: string): boolean {
  return state === 'open' || state === 'acknowledged';
}

function objectOf(pair: string): string {
  return pair.slice(pair.indexOf('|') + 1);
}

/** An alert's identity and state; an unreadable alert becomes an "invalid" record. */
export function decode(kv: KeyValue): AlertRecord {
  try {
    const doc = JSON.parse(Buffer.from(kv.value).toString()) as Record<string, any>;
    const policy = String(doc.status?.reason?.policyId ?? '?');
    const object = String(doc.status?.objectRef?.name ?? '?');
    return { key: kv.key, pair: pairOf(policy, object), state: String(doc.spec?.state ?? '?') };
  } catch {
    return { key: kv.key, pair: `?|${kv.key}`, state: 'invalid' };
  }
}
