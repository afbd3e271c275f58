import type { AlertSnapshot } from '../alert/types.js';
import type { Clock, Timer } from '../clock.js';
import { SnapshotError } from '../errors.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT } from '../snapshot/codec.js';
import type { SnapshotStore } from '../snapshot/store.js';
import type { WatcherSnapshot } from '../watcher/stage.js';

/** The stages that keep a snapshot, by the name their snapshot is stored under. */
export type SnapshotStage = 'watcher' | 'alert';

/** Encoded snapshots, by stage: what an in-process restart hands to the next generation. */
export type Carried = ReadonlyMap<SnapshotStage, Uint8Array>;

export interface Taken {
  readonly revision: number;
  readonly encoded: Map<SnapshotStage, Uint8Array>;
}

export interface CheckpointOptions {
  readonly prefix: string;
  readonly store: SnapshotStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly intervalMs: number;
  /**
   * The stages' state. Both stages change their state only in synchronous steps, and
   * JavaScript runs one step at a time, so reading it from here always sees a whole step.
   */
  readonly watcher: () => WatcherSnapshot | undefined;
  readonly alert: () => AlertSnapshot;
}

/**
 * Saves the stages' snapshots to etcd every `intervalMs` when the watcher has moved on since
 * the last save, and once more on a graceful stop, so a restarted process resumes its watch
 * from there instead of listing everything again. Saving is throttled this way and never
 * runs on the path of an event; a failed save is logged and tried again next time.
 */
export class Checkpointer {
  private timer: Timer | undefined;
  private savedRevision = 0;
  /** When the last snapshot was saved (milliseconds since the epoch); 0 before the first. */
  savedAt = 0;
  private saving: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: CheckpointOptions) {}

  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.timer = this.o.clock.setTimer(this.o.intervalMs, () => {
      void this.saveNow().finally(() => {
        if (!this.stopped) this.start();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
  }

  /** Takes and saves a snapshot now, unless nothing changed since the last one. */
  saveNow(): Promise<void> {
    if (this.saving) return this.saving;
    const taken = this.take();
    if (!taken || taken.revision === this.savedRevision) return Promise.resolve();
    this.saving = this.write(taken)
      .catch((err: unknown) => {
        this.o.metrics.snapshots.inc({ result: 'failed' });
        this.o.log.warn({ [F.err]: String(err) }, 'saving the snapshot failed; will retry');
      })
      .finally(() => (this.saving = undefined));
    return this.saving;
  }

  /**
   * The stages' state right now, encoded; undefined before the watcher's first list. Also
   * what a restart within this process hands to the next generation.
   */
  take(): Taken | undefined {
    const watcher = this.o.watcher();
    if (!watcher) return undefined;
    const encoded = new Map<SnapshotStage, Uint8Array>();
    encoded.set('watcher', this.encode('watcher', watcher.revision, watcher));
    encoded.set('alert', this.encode('alert', watcher.revision, this.o.alert()));
    return { revision: watcher.revision, encoded };
  }

  private async write(taken: Taken): Promise<void> {
    for (const [stage, bytes] of taken.encoded) {
      await this.o.store.save(stage, bytes, taken.revision);
    }
    this.savedRevision = taken.revision;
    this.savedAt = Date.now();
    this.o.metrics.snapshots.inc({ result: 'saved' });
    this.o.log.debug({ [F.revision]: taken.revision }, 'snapshot saved');
  }

  private encode(stage: SnapshotStage, revision: number, data: unknown): Uint8Array {
    return encodeSnapshot({
      format: SNAPSHOT_FORMAT,
      stage,
      revision,
      prefix: this.o.prefix,
      takenAt: this.o.clock.now(),
      data,
    });
  }
}

/**
 * Reads the snapshot of one stage: the one carried over from the previous generation when
 * there is one, else the one saved in etcd. A snapshot that does not decode is dropped (and
 * removed from etcd), and the stage rebuilds from a full list.
 */
export async function loadSnapshot<T>(
  stage: SnapshotStage,
  o: {
    prefix: string;
    carried: Carried | undefined;
    store: SnapshotStore;
    log: Logger;
    metrics: Metrics;
  },
): Promise<T | undefined> {
  const fromMemory = o.carried?.get(stage);
  const bytes = fromMemory ?? (await o.store.load(stage));
  if (!bytes) return undefined;
  try {
    const snapshot = decodeSnapshot<T>(bytes, { stage, prefix: o.prefix });
    o.metrics.snapshots.inc({ result: 'loaded' });
    return snapshot.data;
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    o.metrics.snapshots.inc({ result: 'dropped' });
    o.log.warn({ [F.stage]: stage, [F.err]: err.message }, 'snapshot dropped; listing etcd');
    if (!fromMemory) await o.store.remove(stage).catch(() => undefined);
    return undefined;
  }
}
