import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Results } from './report.js';
import { histogramChart, lineChart } from './svg.js';

/**
 * Writes the report's charts as SVG files into `dir`; returns the file names. Only the
 * scenarios that ran get a chart.
 */
export function writeCharts(dir: string, r: Results): string[] {
  const files: Array<[string, string]> = [];
  if (r.steady) {
    const l = r.steady.latencyMs;
    files.push([
      'latency.svg',
      histogramChart({
        title: `Object write to alert write at ${r.steady.achievedRate}/s (${l.count} changes)`,
        xLabel: 'latency (ms, log scale)',
        yLabel: 'changes',
        bins: r.steady.histogram,
        markers: [
          { label: 'p50', value: l.p50 },
          { label: 'p95', value: l.p95 },
          { label: 'p99', value: l.p99 },
        ],
      }),
    ]);
  }
  if (r.steady) {
    const points = r.steady.series.latencyMs;
    files.push([
      'latency-over-time.svg',
      lineChart({
        title: `Latency per second of steady load at ${r.steady.targetRate} changes/s`,
        xLabel: 'seconds',
        yLabel: 'ms',
        series: [
          { name: 'p50', points: points.map(([t, p50]) => [t, p50]) },
          { name: 'p99', points: points.map(([t, , p99]) => [t, p99]) },
          { name: 'max', points: points.map(([t, , , max]) => [t, max]) },
        ],
      }),
    ]);
  }
  if (r.saturation) {
    files.push([
      'throughput.svg',
      lineChart({
        title: `Saturation: ${r.saturation.transitionsPerSec} alert transitions/s overall`,
        xLabel: 'seconds',
        yLabel: 'per second',
        series: [
          { name: 'object changes written', points: r.saturation.series.changesPerSec },
          { name: 'alert transitions seen', points: r.saturation.series.alertWritesPerSec },
        ],
      }),
    ]);
  }
  if (r.steady) {
    files.push([
      'throughput-steady.svg',
      lineChart({
        title: `Steady load at ${r.steady.targetRate} changes/s`,
        xLabel: 'seconds',
        yLabel: 'per second',
        series: [
          { name: 'object changes written', points: r.steady.series.changesPerSec },
          { name: 'alert transitions seen', points: r.steady.series.alertWritesPerSec },
        ],
      }),
    ]);
  }
  if (r.storm) {
    files.push([
      'storm.svg',
      lineChart({
        title: `Storm of ${r.storm.updates} updates: drained in ${r.storm.drainMs} ms`,
        xLabel: 'seconds',
        yLabel: 'per second',
        series: [
          { name: 'object updates written', points: r.storm.series.updatesPerSec },
          { name: 'alert writes seen', points: r.storm.series.alertWritesPerSec },
        ],
      }),
    ]);
    files.push([
      'storm-rss.svg',
      lineChart({
        title: `Daemon resident memory during the storm (peak ${r.storm.peakRssMB} MB)`,
        xLabel: 'seconds',
        yLabel: 'MB',
        series: [
          { name: 'VmRSS', points: r.storm.series.rssMB },
          { name: 'V8 heap used', points: r.storm.series.heapUsedMB },
          { name: 'external (buffers)', points: r.storm.series.externalMB },
        ],
      }),
    ]);
  }
  for (const [name, svg] of files) writeFileSync(join(dir, name), svg);
  return files.map(([name]) => name);
}
