import { dispatch, query, spawn, stop, type Ref } from 'nact';

import type { Clock } from '../clock.js';
import { Destination } from '../exporter/destination.js';
import type { DestinationChildren } from '../exporter/stage.js';
import type { Notification, SinkFactory } from '../exporter/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { CompiledDestination, CompiledPolicy } from '../model/index.js';
import { evaluate, type EvaluationResult } from '../policy/evaluate.js';
import type { PolicyChildren } from '../policy/stage.js';
import type { ObjectCache } from '../watcher/cache.js';

/** A child that fails escalates to its stage, which reports to the root supervisor. */
const escalate = { onCrash: (_m: unknown, _e: unknown, ctx: { escalate: symbol }) => ctx.escalate };

/** How long a stage waits for one policy child's evaluation before giving up on it. */
const EVALUATION_TIMEOUT_MS = 120_000;

interface EvaluateMessage {
  readonly keys: readonly string[] | 'all';
  readonly reply: Ref<EvaluationResult>;
}

/**
 * One nact actor per policy, holding its compiled matcher. The policy stage asks it to
 * evaluate keys and waits for the answer, so answers come back in the stage's order.
 */
export class PolicyActors implements PolicyChildren {
  private readonly refs = new Map<string, Ref<EvaluateMessage>>();
  private seq = 0;

  constructor(
    private readonly parent: Ref<unknown>,
    private readonly cache: ObjectCache,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  spawn(policy: CompiledPolicy): void {
    this.stop(policy.id);
    const ref = spawn(
      this.parent as Ref<never>,
      (state: undefined, msg: EvaluateMessage) => {
        const keys =
          msg.keys === 'all' ? this.cache.keysOf(policy.ref.tenant, policy.resource) : msg.keys;
        dispatch(msg.reply, evaluate(policy, keys, this.cache, this.log, this.metrics));
        return state;
      },
      `policy-${++this.seq}`,
      escalate as never,
    );
    this.refs.set(policy.id, ref);
  }

  stop(policyId: string): void {
    const ref = this.refs.get(policyId);
    if (!ref) return;
    this.refs.delete(policyId);
    stop(ref);
  }

  evaluate(policyId: string, keys: readonly string[] | 'all'): Promise<EvaluationResult> {
    const ref = this.refs.get(policyId);
    if (!ref) return Promise.reject(new Error(`no child for policy ${policyId}`));
    return query(ref, (reply: Ref<EvaluationResult>) => ({ keys, reply }), EVALUATION_TIMEOUT_MS);
  }
}

/** One nact actor per AlertDestination, owning the export workers of that destination. */
export class DestinationActors implements DestinationChildren {
  private readonly refs = new Map<string, { ref: Ref<Notification>; destination: Destination }>();
  private seq = 0;

  constructor(
    private readonly parent: Ref<unknown>,
    private readonly sinks: Readonly<Record<string, SinkFactory>>,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** A destination is done with a notification (delivered, refused or dropped). */
    private readonly settled: (destination: string, notification: Notification) => void,
  ) {}

  get idle(): boolean {
    return [...this.refs.values()].every((d) => d.destination.idle);
  }

  /** The running destinations, by `<tenant>/<name>`, for their status. */
  destinations(): Array<[string, Destination]> {
    return [...this.refs].map(([name, d]) => [name, d.destination]);
  }

  spawn(name: string, compiled: CompiledDestination): void {
    const previous = this.refs.get(name);
    this.stopActor(name);
    const destination = new Destination({
      compiled,
      sinks: this.sinks,
      clock: this.clock,
      log: this.log,
      metrics: this.metrics,
      onSettled: (n) => this.settled(name, n),
    });
    const ref = spawn(
      this.parent as Ref<never>,
      (state: Destination, msg: Notification) => {
        state.send(msg);
        return state;
      },
      `destination-${++this.seq}`,
      { ...escalate, initialState: destination } as never,
    );
    this.refs.set(name, { ref, destination });
    // A changed destination takes over the old version's counts and what it had not
    // delivered yet.
    if (previous) {
      Object.assign(destination.counters, previous.destination.counters);
      void previous.destination.close().then((left) => {
        for (const n of left) this.send(name, n);
      });
    }
  }

  /** Stops a deleted destination; what it had not delivered is settled as dropped. */
  stop(name: string): void {
    const entry = this.refs.get(name);
    if (!entry) return;
    this.stopActor(name);
    void entry.destination.close().then((left) => {
      for (const n of left) this.settled(name, n);
    });
  }

  send(name: string, notification: Notification): void {
    const entry = this.refs.get(name);
    if (entry) dispatch(entry.ref, notification);
    else this.settled(name, notification);
  }

  /** Stops everything, settling nothing: what was not delivered stays in the outbox. */
  stopAll(): void {
    for (const [name, entry] of [...this.refs]) {
      this.stopActor(name);
      void entry.destination.close();
    }
  }

  private stopActor(name: string): void {
    const entry = this.refs.get(name);
    if (!entry) return;
    this.refs.delete(name);
    stop(entry.ref);
  }
}
