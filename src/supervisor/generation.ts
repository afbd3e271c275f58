import { stop, type Ref } from 'nact';

import { AlertStage } from '../alert/stage.js';
import type { AlertSnapshot } from '../alert/types.js';
import type { Clock } from '../clock.js';
import type { DaemonConfig } from '../daemon/config.js';
import { Outbox } from '../exporter/outbox.js';
import { ExporterStage } from '../exporter/stage.js';
import type { Notification, SinkFactory } from '../exporter/types.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { PolicyStage } from '../policy/stage.js';
import type { Store } from '../store/index.js';
import { ObjectCache } from '../watcher/cache.js';
import type { SnapshotStore } from '../snapshot/store.js';
import { WatcherStage, type WatcherSnapshot } from '../watcher/stage.js';
import { Checkpointer, loadSnapshot, type Carried } from './checkpoint.js';
import { DestinationActors, PolicyActors } from './children.js';
import { spawnHost, type Host } from './host.js';

/** What the pipeline is built from, whichever generation of it runs. */
export interface PipelineDeps {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Destination kinds by the export block that configures them. */
  readonly sinks: Readonly<Record<string, SinkFactory>>;
  /** Also called for every notification (the demo prints them). */
  readonly onNotification?: (notification: Notification) => void;
}

export interface GenerationOptions extends PipelineDeps {
  readonly number: number;
  readonly system: Ref<unknown>;
  readonly snapshots: SnapshotStore;
  /** Snapshots handed over by the generation before this one, when it failed. */
  readonly carried: Carried | undefined;
  readonly setReady: (ready: boolean) => void;
  /** Any stage failed: the supervisor restarts them all. */
  readonly onFailure: (stage: string, error: unknown) => void;
}

/**
 * One incarnation of the pipeline: the four stage actors, their children and the object
 * cache. A restart throws the whole generation away and builds the next one; anything still
 * in flight from this one (an etcd call, a timer) finds its host stopped and is dropped, so
 * a late completion can never touch the newer generation's state.
 */
export class Generation {
  readonly watcher: WatcherStage;
  readonly policy: PolicyStage;
  readonly alert: AlertStage;
  readonly exporter: ExporterStage;
  private readonly hosts: Host[];
  private readonly policyActors: PolicyActors;
  private readonly destinationActors: DestinationActors;
  private readonly checkpointer: Checkpointer;
  private readonly outbox: Outbox;
  private flushQueued = false;
  private stopped = false;

  private readonly metrics: Metrics;

  constructor(o: GenerationOptions) {
    this.metrics = o.metrics;
    const log = o.log.child({ generation: o.number });
    const cache = new ObjectCache();
    const host = (stage: string) =>
      spawnHost(o.system, `${stage}-${o.number}`, (error) => o.onFailure(stage, error));
    const watcherHost = host('watcher');
    const policyHost = host('policy');
    const alertHost = host('alert');
    const exporterHost = host('exporter');
    this.hosts = [watcherHost, policyHost, alertHost, exporterHost];

    this.outbox = new Outbox({
      store: o.store,
      statePrefix: o.config.statePrefix,
      clock: o.clock,
      log,
    });
    this.policyActors = new PolicyActors(policyHost.ref, cache, log, o.metrics);
    this.destinationActors = new DestinationActors(
      exporterHost.ref,
      o.sinks,
      o.clock,
      log,
      o.metrics,
      (destination, n) => this.outbox.delivered(destination, n),
    );

    this.exporter = new ExporterStage({
      prefix: o.config.prefix,
      store: o.store,
      outbox: this.outbox,
      clock: o.clock,
      schedule: (work) => exporterHost.send(work),
      log,
      metrics: o.metrics,
      children: this.destinationActors,
      ...(o.onNotification ? { onNotification: o.onNotification } : {}),
    });

    this.alert = new AlertStage({
      store: o.store,
      prefix: o.config.prefix,
      objects: cache,
      clock: o.clock,
      log,
      metrics: o.metrics,
      gcRetentionMs: o.config.gcRetentionMs,
      gcIntervalMs: o.config.gcIntervalMs,
      schedule: (work) => alertHost.send(work),
      notify: (n) => exporterHost.send(() => this.exporter.notify(n)),
      records: (n) => this.outbox.records(n),
      onFailure: (error) => o.onFailure('alert', error),
    });

    const toAlert = (work: () => void) => alertHost.send(work);
    this.policy = new PolicyStage({
      prefix: o.config.prefix,
      clearDurationMs: o.config.clearDurationMs,
      cache,
      log,
      metrics: o.metrics,
      children: this.policyActors,
      out: {
        upsert: (info) => toAlert(() => this.alert.upsertPolicy(info)),
        remove: (id) => toAlert(() => this.alert.removePolicy(id)),
        invalid: (key, error) => toAlert(() => this.alert.invalidPolicy(key, error)),
        valid: (key) => toAlert(() => this.alert.validPolicyKey(key)),
        forget: (key) => toAlert(() => this.alert.forgetPolicyKey(key)),
        verdicts: (v) => toAlert(() => this.alert.applyVerdicts(v)),
        objectsGone: (keys) => toAlert(() => this.alert.objectsGone(keys)),
        reconcile: () => toAlert(() => this.alert.reconcile()),
      },
    });

    const snapshotSource = {
      prefix: o.config.prefix,
      carried: o.carried,
      store: o.snapshots,
      log,
      metrics: o.metrics,
    };
    this.watcher = new WatcherStage({
      resume: async () => {
        // Queued before the watcher's first output, so the delays are back before any
        // verdict of the start-up evaluation reaches the alert stage.
        const alert = await loadSnapshot<AlertSnapshot>('alert', snapshotSource);
        if (alert) alertHost.send(() => this.alert.restore(alert));
        return loadSnapshot<WatcherSnapshot>('watcher', snapshotSource);
      },
      backlog: () => this.backlog,
      highWater: o.config.backlogHighWater,
      lowWater: o.config.backlogLowWater,
      store: o.store,
      prefix: o.config.prefix,
      cache,
      clock: o.clock,
      log,
      metrics: o.metrics,
      schedule: (work) => watcherHost.send(work),
      setReady: (ready) => o.setReady(ready && !this.stopped),
      out: {
        sync: ({ alerts, destinations, policies }) => {
          exporterHost.send(() => this.exporter.sync(destinations));
          alertHost.send(() => this.alert.load(alerts));
          policyHost.send(() => this.policy.sync(policies));
        },
        objects: (keys) => {
          // Level-based: mark the keys now and queue one flush, which evaluates whatever is
          // dirty when it runs; many updates to one object that arrive before it cost one
          // evaluation. Marking here rather than in a message of its own matters: a key
          // marked by a message queued behind the flush would wait for the next change.
          this.policy.markDirty(keys);
          if (!this.flushQueued) {
            this.flushQueued = true;
            policyHost.send(() => {
              this.flushQueued = false;
              return this.policy.flush();
            });
          }
        },
        policies: (events) => policyHost.send(() => this.policy.policyEvents(events)),
        destinations: (events) => exporterHost.send(() => this.exporter.destinationEvents(events)),
        alerts: (events) => alertHost.send(() => this.alert.alertEvents(events)),
      },
    });

    this.checkpointer = new Checkpointer({
      prefix: o.config.prefix,
      store: o.snapshots,
      clock: o.clock,
      log,
      metrics: o.metrics,
      intervalMs: o.config.snapshotIntervalMs,
      watcher: () => this.watcher.snapshot(),
      alert: () => this.alert.snapshot(),
    });
  }

  start(): void {
    this.hosts[0]!.send(() => this.watcher.start());
    this.checkpointer.start();
    this.metrics.probes.backlog = () => (this.stopped ? 0 : this.backlog);
    this.metrics.probes.lastSnapshotAt = () => this.checkpointer.savedAt;
    this.metrics.probes.queues = () =>
      this.stopped
        ? []
        : this.destinationActors.destinations().map(([name, d]) => [name, d.queued]);
  }

  /** Work handed between stages and not done yet, which the watcher holds back for. */
  get backlog(): number {
    return (
      this.hosts.reduce((sum, h) => sum + h.pending, 0) +
      this.policy.pendingKeys +
      this.alert.backlog
    );
  }

  /**
   * Makes one stage's actor fail as a bug would, through the same crash path. For fault
   * injection in tests and drills; nothing in the daemon calls it.
   */
  injectFault(stage: 'watcher' | 'policy' | 'alert' | 'exporter', error: Error): void {
    const index = ['watcher', 'policy', 'alert', 'exporter'].indexOf(stage);
    this.hosts[index]!.send(() => {
      throw error;
    });
  }

  /** The stages' state, encoded, for the next generation when this one has failed. */
  carry(): Carried | undefined {
    return this.checkpointer.take()?.encoded;
  }

  /** Saves a snapshot to etcd now (on a graceful stop), unless nothing changed. */
  saveSnapshot(): Promise<void> {
    return this.checkpointer.saveNow();
  }

  /** True when no stage has work queued and no write or notification is in flight. */
  get idle(): boolean {
    if (this.stopped) return true;
    return (
      this.hosts.every((h) => h.pending === 0) &&
      !this.alert.busy &&
      this.destinationActors.idle &&
      this.outbox.idle
    );
  }

  /** Stops taking new input from etcd; queued work still runs (for a graceful drain). */
  stopInput(): void {
    this.watcher.close();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.checkpointer.stop();
    this.watcher.close();
    this.alert.close();
    this.exporter.close();
    this.destinationActors.stopAll();
    // Deliveries confirmed so far lose their records now, not at the next start (which
    // would send them again).
    void this.outbox.flush();
    this.outbox.close();
    for (const host of this.hosts) {
      host.stopped = true;
      stop(host.ref);
    }
  }
}
