import { performance } from 'node:perf_hooks';

import { auditAlerts, type AuditResult } from '../audit.js';
import { every, ms, until, type Context } from '../context.js';
import { ChangeDriver, sleep } from '../driver.js';
import { decode } from '../probe.js';
import { round } from '../stats.js';
import { rig, unrig, type Rig } from './common.js';

/**
 * A crash under load: changes at R per second; a third of the way through the daemon is
 * killed with SIGKILL, stays down while changes go on, and is started again. Once the load
 * ends and the daemon has caught up, the alerts listed from etcd are compared with the set
 * the objects' final states call for: none may be lost or duplicated.
 */
export interface RestartResult {
  readonly objects: number;
  readonly policies: number;
  readonly rate: number;
  readonly changes: number;
  readonly killedAtMs: number;
  readonly downMs: number;
  /** Spawn of the new process to its first /readyz 200. */
  readonly readyMs: number;
  /** From the end of the load until the alerts were exactly the expected set. */
  readonly settleMs: number;
  readonly settled: boolean;
  readonly killSignal: string | null;
  readonly audit: AuditResult;
}

export async function runRestart(ctx: Context): Promise<RestartResult> {
  const { objects, policies, rate, restartLoadMs, restartDownMs, settleTimeoutMs } =
    ctx.options.sizes;
  let r: Rig | undefined;
  try {
    r = await rig(ctx, 'restart', objects, policies);
    const rigged = r;
    const driver = new ChangeDriver(ctx.cluster.store, r.fleet, r.mirror, r.origin);
    let phase = 'load';
    const stop = every(250, () =>
      ctx.progress.update(
        `restart: ${phase}; ${driver.changes} changes, ${driver.outstanding} awaiting alerts`,
      ),
    );
    let killedAtMs = 0;
    let readyMs = 0;
    let killSignal: string | null = null;
    let settled = false;
    let settleMs = 0;
    try {
      const load = driver.runAtRate(rate, restartLoadMs);
      await sleep(restartLoadMs / 3);
      phase = 'daemon killed';
      killedAtMs = performance.now() - r.origin;
      await r.daemon.crash();
      killSignal = (await r.daemon.exited).signal;
      await sleep(restartDownMs);
      phase = 'daemon restarting';
      r.daemon = await r.space.startDaemon();
      r.memory.track(r.daemon);
      readyMs = await r.daemon.waitReady();
      phase = 'daemon back';
      await load;

      phase = 'settling';
      const loadEnd = performance.now();
      const expected = r.fleet.expectedOpen();
      settled = await until(() => rigged.mirror.matches(expected), settleTimeoutMs);
      settleMs =
        (settled ? Math.max(rigged.mirror.lastWriteAt, loadEnd) : performance.now()) - loadEnd;
    } finally {
      stop();
    }

    // The verdict comes from etcd itself, not from the bench's mirror of the watch.
    const { items } = await ctx.cluster.store.list(`${r.space.prefix}/Alert/`);
    const audit = auditAlerts(items.map(decode), r.fleet.expectedOpen());
    const result: RestartResult = {
      objects,
      policies,
      rate,
      changes: driver.changes,
      killedAtMs: round(killedAtMs),
      downMs: restartDownMs,
      readyMs: round(readyMs),
      settleMs: round(settleMs),
      settled,
      killSignal,
      audit,
    };
    ctx.progress.log(
      `restart: ready ${ms(readyMs)} after SIGKILL; settled ${ms(settleMs)} after the load; ` +
        `${audit.lost} lost, ${audit.duplicate} duplicate, ${audit.stale} stale of ` +
        `${audit.expectedOpen} expected`,
    );
    return result;
  } finally {
    await unrig(r);
  }
}
