import { performance } from 'node:perf_hooks';

import { cpuMeter, every, type Context } from '../context.js';
import { metricSum } from '../daemon.js';
import { ChangeDriver } from '../driver.js';
import { distribution, rate, round, roundDistribution, type Distribution } from '../stats.js';
import { rig, unrig, type Rig } from './common.js';

/**
 * Saturation: object changes as fast as the driver can write them (transactions of 128, two
 * in flight), held at most `window` changes ahead of the alert writes seen so the daemon's
 * backlog stays bounded. The figure is alert transitions written per second, compared with
 * the raw etcd baseline.
 */
export interface SaturationResult {
  readonly objects: number;
  readonly policies: number;
  readonly changes: number;
  readonly window: number;
  readonly spanMs: number;
  /** Alert writes answering a change, per second over the span. */
  readonly transitionsPerSec: number;
  /** Every write under the Alert prefix, per second over the span. */
  readonly alertWritesPerSec: number;
  readonly changesPerSec: number;
  readonly ratioToBaseline: number;
  readonly unanswered: number;
  /** Change-to-alert latency under saturation: mostly queueing within the window. */
  readonly latencyMs: Distribution;
  readonly peakRssMB: number;
  /** CPU used from the first change to the drain, in cores, per process. */
  readonly cpuCores: Record<string, number>;
  readonly daemon: {
    readonly evaluations: number;
    readonly writeBatches: number;
    readonly meanBatchSize: number;
    readonly watchPauses: number;
  };
  readonly series: {
    readonly changesPerSec: Array<[number, number]>;
    readonly alertWritesPerSec: Array<[number, number]>;
  };
}

export async function runSaturation(ctx: Context): Promise<SaturationResult> {
  const {
    objects,
    policies,
    saturationChanges: total,
    saturationWindow: window,
  } = ctx.options.sizes;
  let r: Rig | undefined;
  try {
    r = await rig(ctx, 'saturation', objects, policies);
    const before = await r.daemon.metrics();
    const cpu = cpuMeter(ctx, r.daemon);
    const driver = new ChangeDriver(ctx.cluster.store, r.fleet, r.mirror, r.origin);
    const stop = every(250, () =>
      ctx.progress.update(
        `saturation: ${driver.changes}/${total} changes, ${driver.matched} alert writes, ` +
          `${Math.round(rate(driver.matched, performance.now() - driver.firstSentAt))}/s`,
      ),
    );
    try {
      await driver.runFlatOut(total, window);
      await driver.drain(ctx.options.sizes.settleTimeoutMs);
    } finally {
      stop();
    }
    const cores = cpu.read();
    const after = await r.daemon.metrics();
    r.memory.sample();

    const spanMs = driver.lastMatchedAt - driver.firstSentAt;
    const transitionsPerSec = rate(driver.matched, spanMs);
    const seconds = Math.ceil((driver.lastMatchedAt - r.origin) / 1000);
    const diff = (name: string) => metricSum(after, name) - metricSum(before, name);
    const batches = diff('alertmgr_write_batch_size_count');
    const result: SaturationResult = {
      objects,
      policies,
      changes: driver.changes,
      window,
      spanMs: round(spanMs),
      transitionsPerSec: round(transitionsPerSec),
      alertWritesPerSec: round(rate(r.mirror.writes, spanMs)),
      changesPerSec: round(rate(driver.changes, spanMs)),
      ratioToBaseline: round(transitionsPerSec / ctx.baselinePutsPerSec),
      unanswered: driver.outstanding,
      latencyMs: roundDistribution(distribution(driver.latencies)),
      peakRssMB: round(r.memory.peakMB),
      cpuCores: cores,
      daemon: {
        evaluations: diff('alertmgr_evaluations_total'),
        writeBatches: batches,
        meanBatchSize: round(batches ? diff('alertmgr_write_batch_size_sum') / batches : 0),
        watchPauses: diff('alertmgr_watch_pauses_total'),
      },
      series: {
        changesPerSec: driver.sent.perSecond(seconds),
        alertWritesPerSec: driver.answered.perSecond(seconds),
      },
    };
    ctx.progress.log(
      `saturation: ${result.transitionsPerSec} transitions/s ` +
        `(${round(result.ratioToBaseline * 100)}% of the etcd baseline), ` +
        `mean batch ${result.daemon.meanBatchSize}, ${result.unanswered} unanswered`,
    );
    return result;
  } finally {
    await unrig(r);
  }
}
