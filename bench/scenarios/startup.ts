import { performance } from 'node:perf_hooks';

import { Space, ms, seed, until, type Context } from '../context.js';
import type { DaemonProcess } from '../daemon.js';
import { NO_FAULT, type Fleet } from '../fleet.js';
import { AlertMirror } from '../probe.js';
import { MemorySampler } from '../procfs.js';
import { round } from '../stats.js';
import { startSettled } from './common.js';

/**
 * Start-up: N objects and A alerts already in etcd. A first daemon creates the alerts and
 * stops gracefully (saving its snapshot); then the time to /readyz is measured twice: warm
 * (the same state prefix, so the snapshot is there) and cold (a state prefix of its own:
 * everything comes from listing etcd). After each start the bench watches for alert
 * writes: with nothing changed there should be none (contract, lifecycle 9).
 */
export interface StartRun {
  /** Why the daemon never became ready, when it did not. */
  readonly error?: string;
  /** Spawn to the first /readyz 200. */
  readonly readyMs: number;
  /**
   * Spawn to the end of the start-up work: N x P evaluations counted in /metrics and the
   * process quiet. /readyz may say ready before it; alerts are only right from here on.
   */
  readonly settledMs: number;
  /** Alert writes from spawn to the end of a quiet period after ready (expected 0). */
  readonly alertWrites: number;
  readonly rssMB: number;
  /** Highest resident set of the process (VmHWM) by the end of the quiet period. */
  readonly peakRssMB: number;
}

export interface StartupResult {
  readonly objects: number;
  readonly policies: number;
  readonly alerts: number;
  readonly seedMs: number;
  /** The first run, on objects without alerts: ready, then every alert created. */
  readonly create: {
    readonly readyMs: number;
    readonly settledMs: number;
    readonly allAlertsMs: number;
  };
  readonly warm: StartRun;
  readonly cold: StartRun;
}

const QUIET_MS = 2_000;

export async function runStartup(ctx: Context): Promise<StartupResult> {
  const { largeObjects: objects, startupAlerts: alerts, policies } = ctx.options.sizes;
  const space = new Space(ctx, 'startup');
  let mirror: AlertMirror | undefined;
  try {
    const fleet = space.fleet(objects, policies);
    spreadFaults(fleet, alerts);
    const seedMs = await seed(ctx, fleet, 'startup');
    mirror = await AlertMirror.open(ctx.cluster.store, space.prefix);
    const expected = fleet.expectedOpen();

    ctx.progress.update('startup: first run creates the alerts');
    const started = await startSettled(ctx, space, objects * policies);
    const first = started.daemon;
    const m = mirror;
    const created = await until(
      () => m.matches(expected),
      ctx.options.sizes.settleTimeoutMs,
      () => ctx.progress.update(`startup: first run, ${m.size}/${expected.size} alerts`),
    );
    if (!created) throw new Error(`startup: only ${m.size} of ${expected.size} alerts appeared`);
    const allAlertsMs = m.lastWriteAt - first.startedAt;
    await first.stop();

    ctx.progress.update('startup: warm start (snapshot present)');
    const warm = await measureStart(ctx, () => space.startDaemon(), m);
    ctx.progress.update('startup: cold start (no snapshot)');
    const cold = await measureStart(ctx, () => space.startDaemon(space.statePrefix('cold')), m);

    const when = (run: StartRun) => (run.error ? 'never' : ms(run.readyMs));
    const peak = Math.round(Math.max(cold.peakRssMB, warm.peakRssMB));
    ctx.progress.log(
      `startup: ${objects} objects, ${alerts} alerts: ready in ${when(cold)} cold, ` +
        `${when(warm)} warm; peak RSS ${peak} MB; ` +
        `${cold.alertWrites + warm.alertWrites} alert writes by the restarts`,
    );
    return {
      objects,
      policies,
      alerts,
      seedMs: round(seedMs),
      create: {
        readyMs: round(started.readyMs),
        settledMs: round(started.settledMs),
        allAlertsMs: round(allAlertsMs),
      },
      warm,
      cold,
    };
  } finally {
    mirror?.close();
    await space.close();
  }
}

/** Faults `count` objects spread evenly over the fleet and over the policies. */
function spreadFaults(fleet: Fleet, count: number): void {
  const stride = fleet.size / count;
  for (let j = 0; j < count; j++) {
    const i = Math.floor(j * stride);
    fleet.setFault(i, j % fleet.policies);
  }
  if (fleet.faults.filter((f) => f !== NO_FAULT).length !== count) {
    throw new Error('startup: fault spread miscounted');
  }
}

async function measureStart(
  ctx: Context,
  start: () => Promise<DaemonProcess>,
  mirror: AlertMirror,
): Promise<StartRun> {
  const writesBefore = mirror.writes;
  const daemon = await start();
  const memory = new MemorySampler(daemon, performance.now());
  const evaluations = ctx.options.sizes.largeObjects * ctx.options.sizes.policies;
  const failed = (error: string): StartRun => {
    memory.stop();
    ctx.progress.log(`startup: ${error}`);
    return {
      error,
      readyMs: NaN,
      settledMs: NaN,
      alertWrites: mirror.writes - writesBefore,
      rssMB: NaN,
      peakRssMB: round(memory.peakMB),
    };
  };
  let readyMs: number;
  try {
    readyMs = await daemon.waitReady();
  } catch (err) {
    await daemon.stop();
    return failed(err instanceof Error ? err.message : String(err));
  }
  const settledMs = (await daemon.waitSettled(evaluations)) ?? NaN;
  if (!daemon.running) {
    const { code } = await daemon.exited;
    return failed(`ready after ${ms(readyMs)}, then exited with ${code}: ${daemon.lastError}`);
  }
  const quietEnd = performance.now() + QUIET_MS;
  await until(
    () => performance.now() >= quietEnd,
    QUIET_MS + 1_000,
    () => ctx.progress.update(`startup: ready in ${ms(readyMs)}; watching for writes`),
  );
  const now = daemon.memory();
  memory.stop();
  await daemon.stop();
  return {
    readyMs: round(readyMs),
    settledMs: round(settledMs),
    alertWrites: mirror.writes - writesBefore,
    rssMB: round(now?.rssMB ?? NaN),
    peakRssMB: round(memory.peakMB),
  };
}
