import { performance } from 'node:perf_hooks';

import { MAX_TXN_OPS } from '../../src/store/index.js';
import type { Context } from '../context.js';
import { rate, round } from '../stats.js';

/**
 * The raw etcd baseline: how many puts per second this etcd takes in transactions of 128,
 * one transaction in flight at a time (as the daemon's alert writer sends them), with
 * values the size of an alert. Measured in the same run as the scenarios, on the same etcd.
 */
export interface BaselineResult {
  readonly puts: number;
  readonly transactions: number;
  readonly durationMs: number;
  readonly valueBytes: number;
  readonly putsPerSec: number;
  /** The same with four transactions in flight: what etcd can take with pipelining. */
  readonly pipelinedPutsPerSec: number;
}

const KEYS = 20_000;

export async function runBaseline(ctx: Context): Promise<BaselineResult> {
  const { store } = ctx.cluster;
  const root = `/bench-${ctx.runId}/baseline/`;
  const value = alertSizedValue();
  let next = 0;
  const batch = () => {
    const writes = Array.from({ length: MAX_TXN_OPS }, () => ({
      op: { type: 'put' as const, key: `${root}k${String(next++ % KEYS).padStart(6, '0')}`, value },
    }));
    return store.batch(writes);
  };

  const measure = async (inFlight: number, durationMs: number) => {
    const start = performance.now();
    let puts = 0;
    let txns = 0;
    const worker = async () => {
      while (performance.now() - start < durationMs) {
        await batch();
        puts += MAX_TXN_OPS;
        txns++;
        ctx.progress.update(
          `baseline: ${inFlight} in flight, ${puts} puts, ` +
            `${Math.round(rate(puts, performance.now() - start))}/s`,
        );
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    return { puts, txns, elapsed: performance.now() - start };
  };

  // A short warm-up so the first measured transaction does not pay for connection set-up.
  await measure(1, 1_000);
  const serial = await measure(1, ctx.options.sizes.baselineMs);
  const pipelined = await measure(4, Math.min(3_000, ctx.options.sizes.baselineMs / 2));
  await ctx.cluster.dropPrefix(root);
  return {
    puts: serial.puts,
    transactions: serial.txns,
    durationMs: round(serial.elapsed),
    valueBytes: value.length,
    putsPerSec: round(rate(serial.puts, serial.elapsed)),
    pipelinedPutsPerSec: round(rate(pipelined.puts, pipelined.elapsed)),
  };
}

/** A JSON document shaped and sized like an open alert. */
function alertSizedValue(): string {
  return JSON.stringify({
    kind: 'Alert',
    meta: {
      name: 'bench-p001-card-000001-0123456789',
      tenant: 'default',
      creationTime: new Date().toISOString(),
      modTime: new Date().toISOString(),
    },
    spec: { state: 'open' },
    status: {
      severity: 'warn',
      message: 'card reports fault f1',
      objectRef: { kind: 'DistributedServiceCard', tenant: 'default', name: 'card-000001' },
      reason: {
        policyId: 'bench-p001/bench-p001-uid',
        matchedRequirements: [
          { key: 'status.fault', operator: 'equals', values: ['f1'], observedValue: 'f1' },
        ],
      },
      totalHits: 1,
    },
  });
}
