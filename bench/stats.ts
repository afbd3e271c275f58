/** Pure statistics of the bench: percentiles, distributions and rates over time. */

export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * The nearest-rank percentile of values sorted ascending: the smallest value such that at
 * least `p` percent of the values are at or below it. NaN for no values.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (p < 0 || p > 100 || Number.isNaN(p)) throw new RangeError(`percentile ${p} not in 0..100`);
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Summarises values in any order; the input is not changed. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = Float64Array.from(values).sort();
  const list = Array.from(sorted);
  const sum = list.reduce((a, b) => a + b, 0);
  return {
    count: list.length,
    min: list.length ? list[0]! : NaN,
    mean: list.length ? sum / list.length : NaN,
    p50: percentile(list, 50),
    p90: percentile(list, 90),
    p95: percentile(list, 95),
    p99: percentile(list, 99),
    max: list.length ? list[list.length - 1]! : NaN,
  };
}

export interface Bin {
  /** Inclusive lower edge. */
  readonly lo: number;
  /** Exclusive upper edge (the last bin holds everything above its lower edge). */
  readonly hi: number;
  readonly count: number;
}

/**
 * A histogram on logarithmic bins, `perDecade` of them per factor of ten, from the decade
 * below the smallest value (but not below `floor`) to past the largest. Latencies span
 * decades, so equal widths in log space show both the body and the tail.
 */
export function logHistogram(values: readonly number[], perDecade = 5, floor = 0.01): Bin[] {
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const step = 1 / perDecade;
  const start = Math.floor(Math.log10(Math.max(min, floor)));
  max = Math.max(max, 10 ** start * 1.0001);
  const bins = Math.max(1, Math.ceil((Math.log10(max) - start) / step));
  const edges = Array.from({ length: bins + 1 }, (_, i) => 10 ** (start + i * step));
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const v of values) {
    let i = v <= floor ? 0 : Math.floor((Math.log10(v) - start) / step);
    i = Math.min(Math.max(i, 0), counts.length - 1);
    counts[i]!++;
  }
  return counts.map((count, i) => ({ lo: edges[i]!, hi: edges[i + 1]!, count }));
}

/**
 * Counts of events per fixed-width time bucket from a start time: the raw data of the
 * throughput-over-time charts. Times are milliseconds on any monotonic clock.
 */
export class Timeline {
  private readonly counts: number[] = [];

  constructor(
    readonly startMs: number,
    readonly bucketMs = 1000,
  ) {}

  add(atMs: number, n = 1): void {
    const i = Math.floor((atMs - this.startMs) / this.bucketMs);
    if (i < 0) return;
    while (this.counts.length <= i) this.counts.push(0);
    this.counts[i]! += n;
  }

  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }

  /** Points (seconds since start at the bucket's end, events per second in the bucket). */
  perSecond(length = this.counts.length): Array<[number, number]> {
    const points: Array<[number, number]> = [];
    for (let i = 0; i < length; i++) {
      const count = this.counts[i] ?? 0;
      points.push([((i + 1) * this.bucketMs) / 1000, (count * 1000) / this.bucketMs]);
    }
    return points;
  }

  get length(): number {
    return this.counts.length;
  }
}

/** Events per second over a span; 0 when the span is empty. */
export function rate(count: number, spanMs: number): number {
  return spanMs > 0 ? (count * 1000) / spanMs : 0;
}

/** Rounds for reports: whole numbers above 100, else three significant digits. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

export function roundDistribution(d: Distribution): Distribution {
  return {
    count: d.count,
    min: round(d.min),
    mean: round(d.mean),
    p50: round(d.p50),
    p90: round(d.p90),
    p95: round(d.p95),
    p99: round(d.p99),
    max: round(d.max),
  };
}

/**
 * Percentiles of values per time bucket: points (seconds at the bucket's end, p50, p99,
 * max), for a chart of latency over time. `at` holds each value's time in milliseconds.
 */
export function percentilesOverTime(
  at: readonly number[],
  values: readonly number[],
  bucketMs = 1000,
): Array<[number, number, number, number]> {
  const buckets: number[][] = [];
  at.forEach((t, i) => {
    const b = Math.max(0, Math.floor(t / bucketMs));
    (buckets[b] ??= []).push(values[i]!);
  });
  const points: Array<[number, number, number, number]> = [];
  for (let b = 0; b < buckets.length; b++) {
    const sorted = (buckets[b] ?? []).sort((x, y) => x - y);
    if (sorted.length === 0) continue;
    const end = ((b + 1) * bucketMs) / 1000;
    points.push([end, percentile(sorted, 50), percentile(sorted, 99), sorted[sorted.length - 1]!]);
  }
  return points;
}
