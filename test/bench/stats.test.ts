import { describe, expect, it } from 'vitest';

import { auditAlerts } from '../../bench/audit.js';
import { metricSum, parseMetrics } from '../../bench/daemon.js';
import {
  Timeline,
  distribution,
  logHistogram,
  percentile,
  percentilesOverTime,
  rate,
  round,
} from '../../bench/stats.js';

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('uses the nearest rank', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 51)).toBe(3);
  });

  it('is NaN without values and refuses ranks outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('gives the single value for one sample', () => {
    expect(percentile([7], 1)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });
});

describe('distribution', () => {
  it('sorts a copy and summarises it', () => {
    const values = [5, 1, 4, 2, 3];
    const d = distribution(values);
    expect(d).toEqual({ count: 5, min: 1, mean: 3, p50: 3, p90: 5, p95: 5, p99: 5, max: 5 });
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it('sorts numerically, not as text', () => {
    expect(distribution([10, 9, 100]).p50).toBe(10);
  });

  it('is all NaN but the count for no values', () => {
    const d = distribution([]);
    expect(d.count).toBe(0);
    expect(d.p99).toBeNaN();
    expect(d.mean).toBeNaN();
  });
});

describe('logHistogram', () => {
  it('puts every value in exactly one bin, bins touching on log edges', () => {
    const values = [0.5, 1, 2, 3, 10, 45, 46, 999];
    const bins = logHistogram(values, 5);
    expect(bins.reduce((sum, b) => sum + b.count, 0)).toBe(values.length);
    for (let i = 1; i < bins.length; i++) expect(bins[i]!.lo).toBeCloseTo(bins[i - 1]!.hi, 9);
    expect(bins[0]!.lo).toBeLessThanOrEqual(0.5);
    expect(bins[bins.length - 1]!.hi).toBeGreaterThanOrEqual(999);
    for (const v of values) {
      const holders = bins.filter((b) => v >= b.lo && v < b.hi);
      expect(holders.length).toBeLessThanOrEqual(1);
    }
  });

  it('is empty without values and copes with one value and with zero', () => {
    expect(logHistogram([])).toEqual([]);
    expect(logHistogram([5]).reduce((s, b) => s + b.count, 0)).toBe(1);
    expect(logHistogram([0, 0, 1]).reduce((s, b) => s + b.count, 0)).toBe(3);
  });
});

describe('Timeline', () => {
  it('counts per bucket and reports per second', () => {
    const t = new Timeline(1_000, 500);
    t.add(1_000);
    t.add(1_499, 2);
    t.add(2_200, 4);
    t.add(900); // before the start: ignored
    expect(t.total).toBe(7);
    expect(t.perSecond()).toEqual([
      [0.5, 6],
      [1, 0],
      [1.5, 8],
    ]);
    expect(t.perSecond(4)).toHaveLength(4);
  });
});

describe('percentilesOverTime', () => {
  it('gives p50, p99 and max per bucket, skipping empty buckets', () => {
    const at = [100, 200, 300, 2_100];
    const values = [3, 1, 2, 9];
    expect(percentilesOverTime(at, values)).toEqual([
      [1, 2, 3, 3],
      [3, 9, 9, 9],
    ]);
  });
});

describe('rate and round', () => {
  it('computes per-second rates and rounds for reports', () => {
    expect(rate(500, 250)).toBe(2_000);
    expect(rate(5, 0)).toBe(0);
    expect(round(1234.56)).toBe(1235);
    expect(round(12.3456)).toBe(12.3);
    expect(round(0.012345)).toBe(0.0123);
    expect(round(NaN)).toBeNaN();
  });
});

describe('parseMetrics', () => {
  it('reads series and sums a metric over its labels', () => {
    const text = [
      '# HELP alertmgr_alert_writes_total Alert writes',
      '# TYPE alertmgr_alert_writes_total counter',
      'alertmgr_alert_writes_total{result="ok"} 12',
      'alertmgr_alert_writes_total{result="conflict"} 3',
      'process_resident_memory_bytes 104857600',
      '',
    ].join('\n');
    const m = parseMetrics(text);
    expect(m.get('process_resident_memory_bytes')).toBe(104857600);
    expect(metricSum(m, 'alertmgr_alert_writes_total')).toBe(15);
    expect(metricSum(m, 'alertmgr_alert_writes')).toBe(0);
  });
});

describe('auditAlerts', () => {
  const expected = new Set(['p1|a', 'p2|b', 'p3|c']);

  it('finds nothing wrong with exactly the expected open alerts', () => {
    const r = auditAlerts(
      [
        { key: 'k1', pair: 'p1|a', state: 'open' },
        { key: 'k2', pair: 'p2|b', state: 'acknowledged' },
        { key: 'k3', pair: 'p3|c', state: 'open' },
        { key: 'k4', pair: 'p1|z', state: 'resolved' },
      ],
      expected,
    );
    expect(r).toMatchObject({ alerts: 4, expectedOpen: 3, open: 3, lost: 0, duplicate: 0 });
    expect(r.stale).toBe(0);
  });

  it('counts lost, duplicate and stale alerts', () => {
    const r = auditAlerts(
      [
        { key: 'k1', pair: 'p1|a', state: 'open' },
        { key: 'k1b', pair: 'p1|a', state: 'open' },
        { key: 'k2', pair: 'p2|b', state: 'resolved' },
        { key: 'k9', pair: 'p9|x', state: 'open' },
      ],
      expected,
    );
    expect(r.lost).toBe(2); // p2|b is resolved, p3|c is missing
    expect(r.duplicate).toBe(1);
    expect(r.stale).toBe(1);
    expect(r.examples).toEqual({ lost: ['p2|b', 'p3|c'], duplicate: ['p1|a'], stale: ['p9|x'] });
  });
});
