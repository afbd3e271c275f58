import { performance } from 'node:perf_hooks';

import { MAX_TXN_OPS } from '../../src/store/index.js';
import { cpuMeter, every, ms, until, type Context } from '../context.js';
import { sleep } from '../driver.js';
import { MetricsSampler, metricSum } from '../daemon.js';
import { NO_FAULT } from '../fleet.js';
import { Timeline, rate, round } from '../stats.js';
import { rig, unrig, type Rig } from './common.js';

/**
 * A storm: U object updates written in one burst, as fast as etcd takes them (transactions
 * of 128, four in flight, no waiting for the daemon). Each update sets a random fault or
 * none. Measured: the daemon's peak resident memory, and the time until the alerts in etcd
 * are exactly those the objects' final states call for (the drain).
 */
export interface StormResult {
  readonly objects: number;
  readonly policies: number;
  readonly updates: number;
  readonly burstMs: number;
  readonly burstUpdatesPerSec: number;
  /** From the first update written to the last alert write that made the alerts right. */
  readonly drainMs: number;
  readonly drained: boolean;
  readonly expectedOpen: number;
  readonly alertWrites: number;
  readonly peakRssMB: number;
  /** CPU used from the burst to the drain, in cores, per process. */
  readonly cpuCores: Record<string, number>;
  readonly daemon: { readonly watchPauses: number; readonly evaluations: number };
  readonly series: {
    readonly updatesPerSec: Array<[number, number]>;
    readonly alertWritesPerSec: Array<[number, number]>;
    readonly rssMB: Array<[number, number]>;
    /** From the daemon's /metrics (sampled when it answers): V8 heap in use. */
    readonly heapUsedMB: Array<[number, number]>;
    /** Memory outside the V8 heap that it tracks: buffers (gRPC messages among them). */
    readonly externalMB: Array<[number, number]>;
    /** alertmgr_backlog: work handed between stages and not done yet. */
    readonly backlog: Array<[number, number]>;
  };
}

export async function runStorm(ctx: Context): Promise<StormResult> {
  const { objects, policies, stormUpdates: updates, settleTimeoutMs } = ctx.options.sizes;
  let r: Rig | undefined;
  try {
    r = await rig(ctx, 'storm', objects, policies);
    const { fleet, mirror } = r;
    const before = await r.daemon.metrics();
    const random = mulberry32(7);
    const writes = new Timeline(r.origin);
    mirror.onWrite = (w) => writes.add(w.at);
    const written = new Timeline(r.origin);
    const writesBefore = mirror.writes;

    let sent = 0;
    const stop = every(250, () =>
      ctx.progress.update(
        `storm: ${sent}/${updates} updates written, ${mirror.writes - writesBefore} alert ` +
          `writes, RSS ${Math.round(r?.daemon.memory()?.rssMB ?? 0)} MB`,
      ),
    );
    const start = performance.now();
    const cpu = cpuMeter(ctx, r.daemon);
    const inside = new MetricsSampler(r.daemon, r.origin, [HEAP, EXTERNAL, BACKLOG]);
    let burstMs = 0;
    let drained = false;
    try {
      // Consecutive objects per transaction, since a transaction may not hold one key twice;
      // and no object in two transactions in flight at once, so etcd ends with the final
      // state the fleet expects whatever order concurrent transactions commit in.
      const inFlight = new Set<number>();
      const worker = async () => {
        while (sent < updates) {
          const n = Math.min(MAX_TXN_OPS, updates - sent);
          const oldest = inFlight.size ? Math.min(...inFlight) : sent;
          if (sent + n - oldest > objects) {
            await sleep(1);
            continue;
          }
          const first = sent;
          sent += n;
          inFlight.add(first);
          const indices = Array.from({ length: n }, (_, j) => (first + j) % objects);
          for (const i of indices) {
            const fault = random() < 0.5 ? NO_FAULT : Math.floor(random() * policies);
            fleet.setFault(i, fault);
          }
          await fleet.write(ctx.cluster.store, indices);
          inFlight.delete(first);
          written.add(performance.now(), n);
        }
      };
      await Promise.all(Array.from({ length: 4 }, worker));
      burstMs = performance.now() - start;
      const expected = fleet.expectedOpen();
      drained = await until(
        () => mirror.matches(expected),
        settleTimeoutMs,
        () =>
          ctx.progress.update(
            `storm: burst written in ${ms(burstMs)}; ${mirror.mismatches(expected)} alerts ` +
              `still wrong, RSS ${Math.round(r?.daemon.memory()?.rssMB ?? 0)} MB`,
          ),
      );
    } finally {
      stop();
    }
    const drainMs = (drained ? mirror.lastWriteAt : performance.now()) - start;
    const cores = cpu.read();
    inside.stop();
    r.memory.stop();
    const after = await r.daemon.metrics();
    const diff = (name: string) => metricSum(after, name) - metricSum(before, name);
    const seconds = Math.ceil((start + drainMs - r.origin) / 1000);
    const result: StormResult = {
      objects,
      policies,
      updates,
      burstMs: round(burstMs),
      burstUpdatesPerSec: round(rate(updates, burstMs)),
      drainMs: round(drainMs),
      drained,
      expectedOpen: fleet.expectedOpen().size,
      alertWrites: mirror.writes - writesBefore,
      peakRssMB: round(r.memory.peakMB),
      cpuCores: cores,
      daemon: {
        watchPauses: diff('alertmgr_watch_pauses_total'),
        evaluations: diff('alertmgr_evaluations_total'),
      },
      series: {
        updatesPerSec: written.perSecond(seconds),
        alertWritesPerSec: writes.perSecond(seconds),
        rssMB: r.memory.points,
        heapUsedMB: inside.series(HEAP, 1 / MB),
        externalMB: inside.series(EXTERNAL, 1 / MB),
        backlog: inside.series(BACKLOG),
      },
    };
    ctx.progress.log(
      `storm: ${updates} updates in ${ms(burstMs)}; drained in ${ms(drainMs)}` +
        `${drained ? '' : ' (NOT drained)'}; peak RSS ${Math.round(result.peakRssMB)} MB`,
    );
    return result;
  } finally {
    await unrig(r);
  }
}

const HEAP = 'nodejs_heap_size_used_bytes';
const EXTERNAL = 'nodejs_external_memory_bytes';
const BACKLOG = 'alertmgr_backlog';
const MB = 2 ** 20;

/** A small seeded generator, so every run writes the same storm. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
