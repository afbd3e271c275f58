import type { Clock, Timer } from '../clock.js';
import { F, type Logger } from '../log.js';
import { mergeStatus, type Store } from '../store/index.js';

export interface StatusWriterOptions {
  readonly store: Store;
  readonly prefix: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly intervalMs: number;
  readonly schedule: (work: () => void) => void;
  readonly counts: (policyId: string) => { open: number; acknowledged: number };
}

interface Tracked {
  readonly key: string;
  hits: number;
}

/**
 * Keeps each policy's `status` (totalHits, openAlerts, acknowledgedAlerts, error) true in
 * etcd. Changes mark a policy dirty; a periodic pass writes the dirty ones, so a burst of
 * alerts costs one status write per policy per interval. Writes are compare-and-swap on the
 * policy's mod_revision and replace only `status`, so a concurrent `apply` is never lost;
 * a status that is already right is not written at all.
 */
export class PolicyStatusWriter {
  private readonly byId = new Map<string, Tracked>();
  private readonly idByKey = new Map<string, string>();
  private readonly errors = new Map<string, string>();
  private readonly dirty = new Set<string>();
  /** Hit counts from a snapshot for policies not tracked yet (restored before they load). */
  private readonly restored = new Map<string, number>();
  private timer: Timer | undefined;
  private running = false;
  private closed = false;
  private started = false;

  constructor(private readonly o: StatusWriterOptions) {}

  get busy(): boolean {
    return this.running || (this.started && this.dirty.size > 0);
  }

  track(id: string, key: string, storedHits: number): void {
    const existing = this.byId.get(id);
    if (!existing) {
      this.byId.set(id, { key, hits: Math.max(storedHits, this.restored.get(id) ?? 0) });
      this.restored.delete(id);
    }
    this.idByKey.set(key, id);
    this.dirty.add(key);
  }

  untrack(id: string): void {
    const tracked = this.byId.get(id);
    this.byId.delete(id);
    if (tracked && this.idByKey.get(tracked.key) === id) this.idByKey.delete(tracked.key);
  }

  setError(key: string, error: string): void {
    if ((this.errors.get(key) ?? '') === error && !error) return;
    this.errors.set(key, error);
    this.dirty.add(key);
  }

  forgetKey(key: string): void {
    this.errors.delete(key);
    this.idByKey.delete(key);
    this.dirty.delete(key);
  }

  hit(id: string): void {
    const tracked = this.byId.get(id);
    if (tracked) tracked.hits++;
  }

  touch(id: string): void {
    const tracked = this.byId.get(id);
    if (tracked) this.dirty.add(tracked.key);
  }

  hits(): Array<[string, number]> {
    return [...this.byId].map(([id, tracked]) => [id, tracked.hits]);
  }

  /** Hit counts of an earlier run, for policies tracked then; they never go down. */
  restoreHits(hits: ReadonlyArray<[string, number]>): void {
    for (const [id, count] of hits) {
      const tracked = this.byId.get(id);
      if (tracked) tracked.hits = Math.max(tracked.hits, count);
      else this.restored.set(id, count);
    }
  }

  /** At start-up, hits are at least what the alerts themselves count. */
  seedHits(sum: (id: string) => number): void {
    for (const [id, tracked] of this.byId) tracked.hits = Math.max(tracked.hits, sum(id));
  }

  start(): void {
    this.started = true;
    this.arm();
  }

  close(): void {
    this.closed = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
  }

  private arm(): void {
    if (this.closed) return;
    this.timer = this.o.clock.setTimer(this.o.intervalMs, () => this.o.schedule(() => this.pass()));
  }

  /** Computes the wanted statuses now (in the stage's turn), then writes them. */
  private pass(): void {
    if (this.closed) return;
    if (this.running || this.dirty.size === 0) {
      this.arm();
      return;
    }
    const wanted = [...this.dirty].map((key) => ({ key, status: this.wanted(key) }));
    this.dirty.clear();
    this.running = true;
    void this.writeAll(wanted).finally(() => {
      this.running = false;
      this.arm();
    });
  }

  private wanted(key: string): Partial<Record<string, unknown>> {
    const id = this.idByKey.get(key);
    const error = this.errors.get(key) ?? '';
    if (!id) return { openAlerts: 0, acknowledgedAlerts: 0, error };
    const counts = this.o.counts(id);
    return {
      totalHits: this.byId.get(id)?.hits ?? 0,
      openAlerts: counts.open,
      acknowledgedAlerts: counts.acknowledged,
      error,
    };
  }

  private async writeAll(wanted: Array<{ key: string; status: Record<string, unknown> }>) {
    for (const { key, status } of wanted) {
      try {
        const written = await this.write(key, status);
        if (!written) this.o.schedule(() => this.dirty.add(key));
      } catch (err) {
        this.o.log.warn({ [F.policy]: key, [F.err]: String(err) }, 'policy status write failed');
        this.o.schedule(() => this.dirty.add(key));
      }
    }
  }

  /** Returns false when the policy changed under the write and it must be tried again. */
  private write(key: string, wanted: Record<string, unknown>): Promise<boolean> {
    return mergeStatus(this.o.store, key, wanted, { totalHits: 0 });
  }
}
