import { performance } from 'node:perf_hooks';

import { cpuMeter, every, ms, type Context } from '../context.js';
import { ChangeDriver } from '../driver.js';
import {
  distribution,
  logHistogram,
  percentilesOverTime,
  rate,
  round,
  roundDistribution,
  type Bin,
  type Distribution,
} from '../stats.js';
import { rig, unrig, type Rig } from './common.js';

/**
 * Steady load: N objects, P policies, R object changes per second for a while. Each change
 * opens or resolves one alert (policies with persistence and clear durations of 0 s), and
 * its latency runs from the moment the driver sends the object write to the moment the
 * alert write arrives on a watch of the Alert prefix.
 */
export interface SteadyResult {
  readonly objects: number;
  readonly policies: number;
  readonly targetRate: number;
  readonly achievedRate: number;
  readonly durationMs: number;
  readonly changes: number;
  /** Changes whose alert write never came within the drain time. */
  readonly unanswered: number;
  /** The unmeasured warm-up at the same rate before the measured run. */
  readonly warmup: {
    readonly durationMs: number;
    readonly changes: number;
    readonly latencyMs: Distribution;
  };
  readonly latencyMs: Distribution;
  readonly histogram: Bin[];
  readonly peakRssMB: number;
  /** CPU used during the measured run, in cores, by the daemon, etcd and the bench. */
  readonly cpuCores: Record<string, number>;
  readonly series: {
    readonly changesPerSec: Array<[number, number]>;
    readonly alertWritesPerSec: Array<[number, number]>;
    /** Per second of sending: (seconds, p50, p99, max) of the latency. */
    readonly latencyMs: Array<[number, number, number, number]>;
  };
}

export async function runSteady(ctx: Context): Promise<SteadyResult> {
  const { objects, policies, rate: target, steadyMs, warmupMs } = ctx.options.sizes;
  let r: Rig | undefined;
  try {
    r = await rig(ctx, 'steady', objects, policies);
    // A warm-up at the same rate first: the first seconds pay for JIT compilation and cold
    // caches in all three processes, and a backlog built then would spill into the figures.
    const warmup = new ChangeDriver(ctx.cluster.store, r.fleet, r.mirror, r.origin);
    await drive(ctx, warmup, 'steady warm-up', target, warmupMs);
    await warmup.drain(ctx.options.sizes.settleTimeoutMs);

    const start = performance.now();
    const cpu = cpuMeter(ctx, r.daemon);
    const driver = new ChangeDriver(ctx.cluster.store, r.fleet, r.mirror, start);
    await drive(ctx, driver, 'steady', target, steadyMs);
    const sentMs = performance.now() - start;
    const cores = cpu.read();
    await driver.drain(10_000);
    r.memory.sample();
    const seconds = Math.ceil(sentMs / 1000);
    const result: SteadyResult = {
      objects,
      policies,
      targetRate: target,
      achievedRate: round(rate(driver.changes, sentMs)),
      durationMs: round(sentMs),
      changes: driver.changes,
      unanswered: driver.outstanding,
      warmup: {
        durationMs: warmupMs,
        changes: warmup.changes,
        latencyMs: roundDistribution(distribution(warmup.latencies)),
      },
      latencyMs: roundDistribution(distribution(driver.latencies)),
      histogram: logHistogram(driver.latencies),
      peakRssMB: round(r.memory.peakMB),
      cpuCores: cores,
      series: {
        changesPerSec: driver.sent.perSecond(seconds),
        alertWritesPerSec: driver.answered.perSecond(seconds + 1),
        latencyMs: percentilesOverTime(driver.sentAt, driver.latencies).map(
          ([t, p50, p99, max]) => [t, round(p50), round(p99), round(max)],
        ),
      },
    };
    const l = result.latencyMs;
    ctx.progress.log(
      `steady: ${result.changes} changes at ${result.achievedRate}/s; latency p50 ${ms(l.p50)}, ` +
        `p99 ${ms(l.p99)}, max ${ms(l.max)}; ${result.unanswered} unanswered`,
    );
    return result;
  } finally {
    await unrig(r);
  }
}

async function drive(
  ctx: Context,
  driver: ChangeDriver,
  what: string,
  rate: number,
  durationMs: number,
): Promise<void> {
  const stop = every(250, () =>
    ctx.progress.update(
      `${what}: ${driver.changes} changes at ${rate}/s, ${driver.matched} alert writes, ` +
        `${driver.outstanding} awaiting their alert`,
    ),
  );
  try {
    await driver.runAtRate(rate, durationMs);
  } finally {
    stop();
  }
}
