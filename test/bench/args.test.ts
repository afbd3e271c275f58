import { describe, expect, it } from 'vitest';

import {
  FULL_SIZES,
  QUICK_SIZES,
  SCENARIOS,
  UsageError,
  parseBenchArgs,
  readCount,
} from '../../bench/args.js';
import { evaluateTargets, renderTable, summarize, type Report } from '../../bench/report.js';

describe('parseBenchArgs', () => {
  it('runs every scenario at full size by default', () => {
    const o = parseBenchArgs([], '/tmp/out');
    expect(o.scenarios).toEqual([...SCENARIOS]);
    expect(o.quick).toBe(false);
    expect(o.sizes).toEqual(FULL_SIZES);
    expect(o.sizes.objects).toBe(10_000);
    expect(o.sizes.policies).toBe(100);
    expect(o.outDir).toBe('/tmp/out');
    expect(o.jsonFile).toBeUndefined();
    expect(o.etcdEndpoint).toBeUndefined();
  });

  it('uses the quick sizes and puts charts next to the JSON file', () => {
    const o = parseBenchArgs(['--quick', '--json', 'bench/out/quick.json']);
    expect(o.quick).toBe(true);
    expect(o.sizes).toEqual(QUICK_SIZES);
    expect(o.jsonFile).toBe('bench/out/quick.json');
    expect(o.outDir).toBe('bench/out');
  });

  it('takes scenarios comma-separated or repeated, in canonical order, without repeats', () => {
    expect(parseBenchArgs(['--scenario', 'storm,steady']).scenarios).toEqual(['steady', 'storm']);
    expect(
      parseBenchArgs(['--scenario', 'restart', '--scenario', 'startup,restart']).scenarios,
    ).toEqual(['startup', 'restart']);
    expect(parseBenchArgs(['--scenario=all']).scenarios).toEqual([...SCENARIOS]);
  });

  it('lets flags override the preset sizes', () => {
    const o = parseBenchArgs(['--quick', '--objects', '5k', '--rate', '2000', '--duration', '7']);
    expect(o.sizes.objects).toBe(5_000);
    expect(o.sizes.rate).toBe(2_000);
    expect(o.sizes.steadyMs).toBe(7_000);
    expect(o.sizes.policies).toBe(QUICK_SIZES.policies);
  });

  it('accepts only a loopback http etcd', () => {
    expect(parseBenchArgs(['--etcd-endpoints', 'http://127.0.0.1:2379']).etcdEndpoint).toBe(
      'http://127.0.0.1:2379',
    );
    expect(() => parseBenchArgs(['--etcd-endpoints', 'http://10.0.0.5:2379'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--etcd-endpoints', 'nonsense'])).toThrow(UsageError);
  });

  it('refuses unknown flags, unknown scenarios and bad numbers with a usage error', () => {
    expect(() => parseBenchArgs(['--fast'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['--scenario', 'steady,warp'])).toThrow(/unknown scenario "warp"/);
    expect(() => parseBenchArgs(['--objects', '-3'])).toThrow(/--objects/);
    expect(() => parseBenchArgs(['--objects', '64'])).toThrow(/at least 128/);
    expect(() => parseBenchArgs(['--large-objects', '10', '--startup-alerts', '20'])).toThrow(
      /cannot exceed/,
    );
    expect(() => parseBenchArgs(['extra'])).toThrow(UsageError);
  });

  it('reads counts with k and underscores', () => {
    expect(readCount('100k', '--x')).toBe(100_000);
    expect(readCount('100_000', '--x')).toBe(100_000);
    expect(() => readCount('1.5', '--x')).toThrow(UsageError);
    expect(() => readCount('0', '--x')).toThrow(UsageError);
  });
});

describe('summary, targets and table', () => {
  const machine = {
    nproc: 2,
    cpu: 'test cpu',
    memoryMB: 4096,
    os: 'Linux',
    node: 'v20',
    etcd: '3.4.23',
    date: '2026-01-01T00:00:00.000Z',
    command: 'npm run bench',
    commit: 'abc',
  };

  it('marks targets not run when nothing ran, and pass or miss from the figures', () => {
    const empty = summarize({});
    expect(empty.transitionsPerSec).toBeNull();
    expect(evaluateTargets({}, empty).every((t) => t.status === 'not run')).toBe(true);

    const results = {
      baseline: {
        puts: 1,
        transactions: 1,
        durationMs: 1,
        valueBytes: 1,
        putsPerSec: 10_000,
        pipelinedPutsPerSec: 20_000,
      },
      restart: {
        objects: 10,
        policies: 1,
        rate: 1,
        changes: 1,
        killedAtMs: 1,
        downMs: 1,
        readyMs: 900,
        settleMs: 1,
        settled: true,
        killSignal: 'SIGKILL',
        audit: {
          alerts: 3,
          expectedOpen: 3,
          open: 3,
          lost: 0,
          duplicate: 1,
          stale: 0,
          examples: { lost: [], duplicate: ['p|o'], stale: [] },
        },
      },
    };
    const summary = summarize(results);
    expect(summary.etcdBaselinePutsPerSec).toBe(10_000);
    expect(summary.restart).toEqual({ readyMs: 900, lost: 0, duplicate: 1, stale: 0 });
    const targets = evaluateTargets(results, summary);
    expect(targets.find((t) => t.name === 'restart')?.status).toBe('miss');

    const report: Report = {
      machine,
      options: { quick: true, scenarios: ['restart'], sizes: QUICK_SIZES },
      results,
      errors: { storm: 'it broke' },
      notes: ['a note'],
      summary,
      targets,
      charts: [],
    };
    const table = renderTable(report);
    expect(table).toContain('etcd puts/s');
    expect(table).toContain('0 / 1 / 0 of 3');
    expect(table).toContain('it broke');
    expect(table).toContain('- a note');
    expect(table).toMatch(
      /restart\s+0 lost \/ 0 duplicate after SIGKILL\s+0 lost, 1 duplicate\s+miss/,
    );
  });
});
