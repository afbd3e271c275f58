import { performance } from 'node:perf_hooks';

import { ms, until, type Context } from '../context.js';
import { ZONES } from '../fleet.js';
import { round } from '../stats.js';
import { rig, unrig, type Rig } from './common.js';

/**
 * A new policy over N existing objects: the daemon is ready and idle on N objects (no
 * alerts) when a policy matching a tenth of them (label zone z0) is written. Measured from
 * the policy write to the last of its alerts seen on the watch.
 */
export interface NewPolicyResult {
  readonly objects: number;
  readonly policies: number;
  readonly expectedAlerts: number;
  readonly alertsSeen: number;
  /** False when the alerts did not all appear within the settle timeout. */
  readonly complete: boolean;
  readonly firstAlertMs: number;
  readonly allAlertsMs: number;
  readonly alertsPerSec: number;
  readonly peakRssMB: number;
}

const NAME = 'bench-new';

export async function runNewPolicy(ctx: Context): Promise<NewPolicyResult> {
  const { largeObjects: objects, policies } = ctx.options.sizes;
  let r: Rig | undefined;
  try {
    r = await rig(ctx, 'newpolicy', objects, policies);
    const mirror = r.mirror;
    const id = `${NAME}/${NAME}-uid`;
    const expected = Math.ceil(objects / ZONES);
    let firstAt = 0;
    mirror.onWrite = (w) => {
      if (firstAt === 0 && w.pair.startsWith(`${id}|`)) firstAt = w.at;
    };

    const entry = r.fleet.zonePolicyEntry(NAME);
    const t0 = performance.now();
    await ctx.cluster.store.put(entry.key, entry.value);
    const done = await until(
      () => mirror.openOf(id) >= expected,
      ctx.options.sizes.settleTimeoutMs,
      () => ctx.progress.update(`newpolicy: ${mirror.openOf(id)}/${expected} alerts`),
    );
    const allMs = (done ? mirror.lastWriteAt : performance.now()) - t0;
    r.memory.sample();
    const result: NewPolicyResult = {
      objects,
      policies,
      expectedAlerts: expected,
      alertsSeen: mirror.openOf(id),
      complete: done,
      firstAlertMs: round(firstAt ? firstAt - t0 : NaN),
      allAlertsMs: round(allMs),
      alertsPerSec: round((mirror.openOf(id) * 1000) / allMs),
      peakRssMB: round(r.memory.peakMB),
    };
    ctx.progress.log(
      `newpolicy: ${result.alertsSeen}/${expected} alerts over ${objects} objects in ` +
        `${ms(result.allAlertsMs)} (first after ${ms(result.firstAlertMs)})`,
    );
    return result;
  } finally {
    await unrig(r);
  }
}
