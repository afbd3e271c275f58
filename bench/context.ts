import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import type { BenchOptions } from './args.js';
import type { Cleanup } from './cleanup.js';
import type { Cluster } from './cluster.js';
import { DaemonProcess } from './daemon.js';
import { Fleet } from './fleet.js';
import { CpuMeter } from './procfs.js';
import type { Progress } from './progress.js';

/** What every scenario gets from the runner. */
export interface Context {
  readonly options: BenchOptions;
  readonly cluster: Cluster;
  readonly progress: Progress;
  readonly cleanup: Cleanup;
  /** The repository root (where bin/alertmgr.js is). */
  readonly root: string;
  /** Unique per bench run, so runs against a shared etcd never collide. */
  readonly runId: string;
  /** The etcd baseline in puts per second, once measured. */
  baselinePutsPerSec: number;
  /** Findings that are not figures (a daemon that died, say), printed with the report. */
  readonly notes: string[];
}

/**
 * One scenario's key space (`/bench-<run>/<scenario>`) and the daemons it started. `close`
 * stops any daemon still running and deletes every key of the space.
 */
export class Space {
  readonly root: string;
  readonly prefix: string;
  private readonly daemons: DaemonProcess[] = [];
  private started = 0;

  constructor(
    private readonly ctx: Context,
    readonly name: string,
  ) {
    this.root = `/bench-${ctx.runId}/${name}`;
    this.prefix = `${this.root}/objects`;
  }

  /** A state prefix of this space; a new name gives a daemon no snapshot to resume from. */
  statePrefix(name = 'state'): string {
    return `${this.root}/${name}`;
  }

  fleet(size: number, policies: number): Fleet {
    return new Fleet(this.prefix, size, policies);
  }

  /** Spawns a daemon on this space; its log is `<out>/logs/<scenario>-<n>.log`. */
  async startDaemon(statePrefix = this.statePrefix()): Promise<DaemonProcess> {
    const { options, root, cluster, cleanup } = this.ctx;
    this.started++;
    const logs = join(options.outDir, 'logs');
    mkdirSync(logs, { recursive: true });
    const cpuProfDir = options.cpuProf ? join(options.outDir, 'prof', this.name) : undefined;
    if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
    const daemon = await DaemonProcess.start(
      {
        root,
        endpoint: cluster.endpoint,
        prefix: this.prefix,
        statePrefix,
        logFile: join(logs, `${this.name}-${this.started}.log`),
        cpuProfDir,
      },
      cleanup,
    );
    this.daemons.push(daemon);
    return daemon;
  }

  async close(): Promise<void> {
    for (const d of this.daemons.splice(0)) if (d.running) await d.stop();
    await this.ctx.cluster.dropPrefix(`${this.root}/`);
  }
}

/** Measures the CPU of the daemon, etcd (when the bench started it) and the bench. */
export function cpuMeter(ctx: Context, daemon: DaemonProcess): CpuMeter {
  return new CpuMeter({ daemon: daemon.pid, etcd: ctx.cluster.pid });
}

/** Seeds a fleet with a progress line; returns how long it took. */
export async function seed(ctx: Context, fleet: Fleet, what: string): Promise<number> {
  const start = performance.now();
  await fleet.seed(ctx.cluster.store, (done) =>
    ctx.progress.update(`${what}: seeding objects ${done}/${fleet.size}`),
  );
  return performance.now() - start;
}

/** Calls `fn` every `ms` until the returned function is called. */
export function every(ms: number, fn: () => void): () => void {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** Polls `done` every 20 ms until it holds or `timeoutMs` passes; true when it held. */
export async function until(
  done: () => boolean,
  timeoutMs: number,
  onTick: () => void = () => {},
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (done()) return true;
    if (performance.now() > deadline) return false;
    onTick();
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}
