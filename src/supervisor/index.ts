import { start, stop, type Ref } from 'nact';

import type { Timer } from '../clock.js';
import { F } from '../log.js';
import { SnapshotStore } from '../snapshot/store.js';
import type { Carried } from './checkpoint.js';
import { Generation, type PipelineDeps } from './generation.js';

export interface SupervisorOptions extends PipelineDeps {
  /** Called once when the restart budget is spent: the daemon exits with this code. */
  readonly onFatal: (code: number, reason: string) => void;
}

/**
 * The root supervisor. Any stage that fails brings all of them down together (one-for-all)
 * and, after a backoff, up again as a new generation that rebuilds from etcd, the source of
 * truth. Restarting everything keeps the stages consistent with each other: no stage holds
 * state the others have lost. Too many restarts in a short window mean something is broken
 * for good; then the process exits non-zero so systemd or Kubernetes can take over.
 */
export class Supervisor {
  private readonly system: Ref<unknown>;
  private generation: Generation | undefined;
  private number = 0;
  private readonly restarts: number[] = [];
  private restartTimer: Timer | undefined;
  private ready = false;
  private stopping = false;
  private readonly snapshots: SnapshotStore;
  /** Handed from a failed generation to the next one, so its maps survive the restart. */
  private carried: Carried | undefined;

  constructor(private readonly o: SupervisorOptions) {
    this.system = start();
    this.snapshots = new SnapshotStore(o.store, o.config.statePrefix);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** The live generation (tests and the fault hooks look inside). */
  get current(): Generation | undefined {
    return this.generation;
  }

  start(): void {
    this.spawn();
  }

  /** Graceful stop: no new input, let queued writes and notifications finish, then stop. */
  async stop(drainMs = 8_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) this.o.clock.clearTimer(this.restartTimer);
    const generation = this.generation;
    if (generation) {
      generation.stopInput();
      const deadline = Date.now() + drainMs;
      while (!generation.idle && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (!generation.idle) this.o.log.warn('shutdown: gave up waiting for in-flight work');
      // The next process resumes from here instead of listing everything again.
      await withDeadline(generation.saveSnapshot(), Math.max(0, deadline - Date.now()));
      generation.stop();
    }
    this.setReady(false);
    stop(this.system as Ref<never>);
  }

  private spawn(): void {
    this.number++;
    this.generation = new Generation({
      ...this.o,
      number: this.number,
      system: this.system,
      snapshots: this.snapshots,
      carried: this.carried,
      setReady: (ready) => this.setReady(ready),
      onFailure: (stage, error) => this.onFailure(stage, error),
    });
    this.carried = undefined;
    this.generation.start();
  }

  private onFailure(stage: string, error: unknown): void {
    if (this.stopping || !this.generation) return;
    const failed = this.generation;
    this.generation = undefined;
    this.carried = this.carry(failed);
    failed.stop();
    this.setReady(false);
    this.o.metrics.stageRestarts.inc();

    const now = this.o.clock.now();
    const windowMs = this.o.config.restartWindowMs;
    this.restarts.push(now);
    while (this.restarts.length > 0 && this.restarts[0]! <= now - windowMs) this.restarts.shift();
    const budget = this.o.config.restartBudget;
    const reason = error instanceof Error ? error.message : String(error);
    if (this.restarts.length > budget) {
      this.o.log.error(
        { [F.stage]: stage, [F.err]: reason, restarts: this.restarts.length, windowMs },
        'restart budget exhausted; exiting',
      );
      this.stopping = true;
      this.o.onFatal(1, `${stage} failed ${this.restarts.length} times in ${windowMs} ms`);
      return;
    }
    const backoff = Math.min(10_000, 250 * 2 ** (this.restarts.length - 1));
    this.o.log.error(
      { [F.stage]: stage, [F.err]: reason, [F.generation]: this.number, backoffMs: backoff },
      'stage failed; restarting all stages',
    );
    this.restartTimer = this.o.clock.setTimer(backoff, () => {
      if (!this.stopping) this.spawn();
    });
  }

  private carry(failed: Generation): Carried | undefined {
    try {
      return failed.carry();
    } catch (err) {
      this.o.log.warn({ [F.err]: String(err) }, 'no snapshot of the failed stages; relisting');
      return undefined;
    }
  }

  private setReady(ready: boolean): void {
    this.ready = ready;
    this.o.metrics.ready.set(ready ? 1 : 0);
  }
}

/** Waits for `work` at most `ms`; what is still running after that is left to finish alone. */
function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
