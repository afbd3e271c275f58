import { performance } from 'node:perf_hooks';

import type { EtcdStore } from '../src/store/index.js';
import { MAX_TXN_OPS } from '../src/store/index.js';
import { objectIndex, type ExpectedState, type Fleet } from './fleet.js';
import type { AlertMirror, AlertWrite } from './probe.js';
import { Timeline } from './stats.js';

/**
 * Writes object changes like an API server and pairs each with the alert write it causes.
 * An object is changed again only once the alert write owed for its last change has been
 * seen, so every change maps to exactly one alert write and its latency is unambiguous
 * (the daemon is level-based and may merge two quick changes of one object into one).
 */
export class ChangeDriver {
  readonly latencies: number[] = [];
  /** When each answered change was sent (ms since `originMs`), in the order of `latencies`. */
  readonly sentAt: number[] = [];
  readonly sent: Timeline;
  readonly answered: Timeline;
  /** Changes written; changes whose alert write was seen. */
  changes = 0;
  matched = 0;
  firstSentAt = 0;
  lastMatchedAt = 0;
  private readonly pending = new Map<number, { t0: number; pair: string; state: ExpectedState }>();
  private cursor = 0;

  constructor(
    private readonly store: EtcdStore,
    private readonly fleet: Fleet,
    mirror: AlertMirror,
    readonly originMs = performance.now(),
  ) {
    this.sent = new Timeline(originMs);
    this.answered = new Timeline(originMs);
    mirror.onWrite = (write) => this.onWrite(write);
  }

  get outstanding(): number {
    return this.pending.size;
  }

  /**
   * Changes `rate` objects per second for `durationMs`, in one transaction per 10 ms tick.
   * `keepGoing` can end it early.
   */
  async runAtRate(rate: number, durationMs: number, keepGoing = () => true): Promise<void> {
    const start = performance.now();
    let due = 0;
    while (keepGoing()) {
      const elapsed = performance.now() - start;
      if (elapsed >= durationMs) return;
      due = Math.floor((elapsed / 1000) * rate) - this.changes;
      while (due > 0) {
        const n = Math.min(due, MAX_TXN_OPS);
        const sent = await this.send(n);
        if (sent === 0) break;
        due -= sent;
      }
      await sleep(10 - ((performance.now() - start) % 10));
    }
  }

  /**
   * Changes `total` objects as fast as the driver can, `inFlight` transactions of 128 at a
   * time, never more than `window` changes ahead of the alert writes seen.
   */
  async runFlatOut(total: number, window: number, inFlight = 2): Promise<void> {
    const worker = async () => {
      while (this.changes < total) {
        const room = Math.min(MAX_TXN_OPS, window - this.pending.size, total - this.changes);
        if (room <= 0 || (await this.send(room)) === 0) await sleep(2);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
  }

  /** Waits until every change has its alert write, or `timeoutMs` passes. */
  async drain(timeoutMs: number, onTick: () => void = () => {}): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.pending.size > 0 && performance.now() < deadline) {
      onTick();
      await sleep(20);
    }
    return this.pending.size === 0;
  }

  /** Changes up to `n` objects that owe no alert write, in one transaction. */
  private async send(n: number): Promise<number> {
    const picked: number[] = [];
    const owed: Array<{ i: number; pair: string; state: ExpectedState }> = [];
    for (let scanned = 0; picked.length < n && scanned < this.fleet.size; scanned++) {
      const i = this.cursor;
      this.cursor = (this.cursor + 1) % this.fleet.size;
      if (this.pending.has(i)) continue;
      picked.push(i);
      owed.push({ i, ...this.fleet.toggle(i) });
    }
    if (picked.length === 0) return 0;

    const t0 = performance.now();
    if (this.firstSentAt === 0) this.firstSentAt = t0;
    for (const o of owed) this.pending.set(o.i, { t0, pair: o.pair, state: o.state });
    this.changes += picked.length;
    this.sent.add(t0, picked.length);
    await this.fleet.write(this.store, picked);
    return picked.length;
  }

  private onWrite(write: AlertWrite): void {
    const i = objectIndex(write.object);
    const owed = this.pending.get(i);
    if (!owed || owed.pair !== write.pair || owed.state !== write.state) return;
    this.pending.delete(i);
    this.matched++;
    this.lastMatchedAt = write.at;
    this.answered.add(write.at);
    this.latencies.push(write.at - owed.t0);
    this.sentAt.push(owed.t0 - this.originMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
