import { performance } from 'node:perf_hooks';

import { Space, seed, type Context } from '../context.js';
import type { DaemonProcess } from '../daemon.js';
import { MemorySampler } from '../procfs.js';
import type { Fleet } from '../fleet.js';
import { AlertMirror } from '../probe.js';

/** A seeded fleet with a ready daemon on it and a mirror of its alerts. */
export interface Rig {
  readonly space: Space;
  readonly fleet: Fleet;
  readonly mirror: AlertMirror;
  daemon: DaemonProcess;
  readonly memory: MemorySampler;
  readonly seedMs: number;
  readonly readyMs: number;
  /** Spawn to the end of the start-up work (every object against every policy). */
  readonly settledMs: number;
  /** `performance.now()` once ready: time zero of the scenario's charts. */
  readonly origin: number;
}

/**
 * Seeds `objects` healthy objects and the policies, starts a daemon, and waits until it is
 * ready and done with its start-up evaluation (the objects are healthy: no alerts to wait
 * for), so that what follows measures steady work.
 */
export async function rig(
  ctx: Context,
  name: string,
  objects: number,
  policies: number,
): Promise<Rig> {
  const space = new Space(ctx, name);
  const fleet = space.fleet(objects, policies);
  let mirror: AlertMirror | undefined;
  try {
    const seedMs = await seed(ctx, fleet, name);
    mirror = await AlertMirror.open(ctx.cluster.store, space.prefix);
    const started = await startSettled(ctx, space, objects * policies);
    const origin = performance.now();
    const memory = new MemorySampler(started.daemon, origin);
    return { space, fleet, mirror, ...started, memory, seedMs, origin };
  } catch (err) {
    mirror?.close();
    await space.close();
    throw err;
  }
}

const START_ATTEMPTS = 3;

/**
 * Starts the daemon and waits until it is ready and done with its start-up work. A daemon
 * that dies on the way is started again, up to three times: a supervisor would restart it
 * too. Every such failure is a finding, so it goes into the report's notes.
 */
export async function startSettled(ctx: Context, space: Space, evaluations: number) {
  for (let attempt = 1; ; attempt++) {
    const daemon = await space.startDaemon();
    try {
      ctx.progress.update(`${space.name}: waiting for the daemon to be ready`);
      const readyMs = await daemon.waitReady();
      // Ready comes before the start-up evaluation is done; measuring starts once it is.
      ctx.progress.update(`${space.name}: waiting for the start-up evaluation`);
      const settledMs = await daemon.waitSettled(evaluations);
      if (settledMs === undefined) {
        const why = daemon.lastError ? `: ${daemon.lastError}` : '';
        throw new Error(`the start-up evaluation never finished${why}`);
      }
      return { daemon, readyMs, settledMs };
    } catch (err) {
      await daemon.stop();
      const message = err instanceof Error ? err.message : String(err);
      ctx.notes.push(
        `${space.name}: daemon start ${attempt} of ${START_ATTEMPTS} failed: ${message}`,
      );
      ctx.progress.log(`${space.name}: daemon start ${attempt} failed: ${message}`);
      if (attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** Stops what `rig` started and deletes the scenario's keys. */
export async function unrig(r: Rig | undefined): Promise<void> {
  if (!r) return;
  r.memory.stop();
  r.mirror.close();
  await r.space.close();
}
