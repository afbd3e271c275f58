import type { BenchOptions, ScenarioName } from './args.js';
import type { BaselineResult } from './scenarios/baseline.js';
import type { NewPolicyResult } from './scenarios/newpolicy.js';
import type { RestartResult } from './scenarios/restart.js';
import type { SaturationResult } from './scenarios/saturation.js';
import type { StartupResult } from './scenarios/startup.js';
import type { SteadyResult } from './scenarios/steady.js';
import type { StormResult } from './scenarios/storm.js';
import { round } from './stats.js';

/**
 * The report: what ran where, every scenario's full result, the headline `summary` and the
 * targets as pass or miss. Targets are reported, never asserted: a miss is information.
 * Building the summary, the targets and the table is pure.
 */

export interface Machine {
  readonly nproc: number;
  readonly cpu: string;
  readonly memoryMB: number;
  readonly os: string;
  readonly node: string;
  readonly etcd: string;
  readonly date: string;
  readonly command: string;
  readonly commit: string;
}

export interface Results {
  baseline?: BaselineResult;
  steady?: SteadyResult;
  saturation?: SaturationResult;
  startup?: StartupResult;
  newpolicy?: NewPolicyResult;
  storm?: StormResult;
  restart?: RestartResult;
}

export interface Summary {
  readonly transitionsPerSec: number | null;
  readonly etcdBaselinePutsPerSec: number | null;
  readonly ratio: number | null;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number } | null;
  /** Cold start (no snapshot): N objects and A alerts in etcd to /readyz 200. */
  readonly startupMs: number | null;
  readonly startupWarmMs: number | null;
  /** Cold start to the end of the start-up evaluation (alerts right from then on). */
  readonly startupSettledMs: number | null;
  readonly startupRssMB: number | null;
  /** Peak resident memory of the daemon during the storm. */
  readonly peakRssMB: number | null;
  readonly newPolicyMs: number | null;
  readonly stormDrainMs: number | null;
  readonly restart: { readyMs: number; lost: number; duplicate: number; stale: number } | null;
}

export type TargetStatus = 'pass' | 'miss' | 'not run';

export interface Target {
  readonly name: string;
  readonly goal: string;
  readonly value: string;
  readonly status: TargetStatus;
  /** False when the run was smaller than the target's conditions (--quick). */
  readonly atTargetSize: boolean;
}

export interface Report {
  readonly machine: Machine;
  readonly options: Pick<BenchOptions, 'quick' | 'scenarios' | 'sizes'>;
  readonly results: Results;
  readonly errors: Partial<Record<ScenarioName | 'baseline', string>>;
  readonly notes: string[];
  readonly summary: Summary;
  readonly targets: Target[];
  readonly charts: string[];
}

export function summarize(r: Results): Summary {
  const base = r.baseline?.putsPerSec ?? null;
  const tps = r.saturation?.transitionsPerSec ?? null;
  const l = r.steady?.latencyMs;
  const s = r.startup;
  return {
    transitionsPerSec: tps,
    etcdBaselinePutsPerSec: base,
    ratio: tps !== null && base ? round(tps / base) : null,
    latencyMs: l ? { p50: l.p50, p95: l.p95, p99: l.p99, max: l.max } : null,
    startupMs: s?.cold.readyMs ?? null,
    startupWarmMs: s?.warm.readyMs ?? null,
    startupSettledMs: s?.cold.settledMs ?? null,
    startupRssMB: s ? Math.max(s.cold.peakRssMB, s.warm.peakRssMB) : null,
    peakRssMB: r.storm?.peakRssMB ?? null,
    newPolicyMs: r.newpolicy?.allAlertsMs ?? null,
    stormDrainMs: r.storm?.drainMs ?? null,
    restart: r.restart
      ? {
          readyMs: r.restart.readyMs,
          lost: r.restart.audit.lost,
          duplicate: r.restart.audit.duplicate,
          stale: r.restart.audit.stale,
        }
      : null,
  };
}

export function evaluateTargets(r: Results, s: Summary): Target[] {
  const target = (
    name: string,
    goal: string,
    value: string | null,
    pass: boolean | null,
    atTargetSize: boolean,
  ): Target => ({
    name,
    goal,
    value: value ?? '-',
    status: pass === null ? 'not run' : pass ? 'pass' : 'miss',
    atTargetSize: pass === null ? true : atTargetSize,
  });
  const full = (o: { objects: number; policies: number }) =>
    o.objects >= 10_000 && o.policies >= 100;
  const sat = r.saturation;
  const steady = r.steady;
  const start = r.startup;
  const startFull = !!start && start.objects >= 100_000 && start.alerts >= 10_000;
  const np = r.newpolicy;
  return [
    target(
      'throughput',
      'transitions/s >= 50% of etcd baseline',
      s.ratio === null
        ? null
        : `${s.transitionsPerSec}/s = ${pct(s.ratio)} of ${s.etcdBaselinePutsPerSec}/s`,
      s.ratio === null ? null : s.ratio >= 0.5,
      !!sat && full(sat),
    ),
    target(
      'latency',
      'p99 <= 50 ms at 1,000 changes/s',
      steady ? `p99 ${steady.latencyMs.p99} ms at ${steady.achievedRate}/s` : null,
      steady ? steady.latencyMs.p99 <= 50 && steady.unanswered === 0 : null,
      !!steady && full(steady) && steady.achievedRate >= 950,
    ),
    target(
      'start-up time',
      '<= 5 s with 100k objects, 10k alerts',
      start ? `${startText(start.cold)} cold, ${startText(start.warm)} warm` : null,
      start
        ? !start.cold.error &&
            !start.warm.error &&
            Math.max(start.cold.readyMs, start.warm.readyMs) <= 5_000
        : null,
      startFull,
    ),
    target(
      'start-up memory',
      'RSS <= 400 MB with 100k objects, 10k alerts',
      s.startupRssMB === null ? null : `${s.startupRssMB} MB`,
      s.startupRssMB === null ? null : s.startupRssMB <= 400,
      startFull,
    ),
    target(
      'new policy',
      '<= 2 s over 100k objects',
      np ? `${np.allAlertsMs} ms for ${np.alertsSeen} alerts` : null,
      np ? np.complete && np.allAlertsMs <= 2_000 : null,
      !!np && np.objects >= 100_000,
    ),
    target(
      'restart',
      '0 lost / 0 duplicate after SIGKILL',
      s.restart ? `${s.restart.lost} lost, ${s.restart.duplicate} duplicate` : null,
      s.restart ? s.restart.lost === 0 && s.restart.duplicate === 0 : null,
      true,
    ),
  ];
}

function startText(run: { readyMs: number; error?: string }): string {
  return run.error ? 'never ready' : `${run.readyMs} ms`;
}

function cores(c: Record<string, number>): string {
  return ['daemon', 'etcd', 'bench'].map((k) => c[k] ?? '-').join(' / ');
}

function pct(ratio: number): string {
  return `${round(ratio * 100)}%`;
}

/** The human-readable end of a run: figures per scenario, then the targets. */
export function renderTable(report: Report): string {
  const r = report.results;
  const rows: string[][] = [['scenario', 'figure', 'value']];
  const add = (scenario: string, figure: string, value: string | number) =>
    rows.push([scenario, figure, String(value)]);
  if (r.baseline) {
    add('baseline', 'etcd puts/s (txn of 128, 1 in flight)', r.baseline.putsPerSec);
    add('', 'etcd puts/s (4 in flight)', r.baseline.pipelinedPutsPerSec);
  }
  if (r.steady) {
    const l = r.steady.latencyMs;
    add('steady', 'changes/s (target rate)', `${r.steady.achievedRate} (${r.steady.targetRate})`);
    add('', 'latency ms p50 / p95 / p99 / max', `${l.p50} / ${l.p95} / ${l.p99} / ${l.max}`);
    add('', 'unanswered changes', r.steady.unanswered);
    add('', 'CPU cores daemon / etcd / bench', cores(r.steady.cpuCores));
  }
  if (r.saturation) {
    add('saturation', 'alert transitions/s', r.saturation.transitionsPerSec);
    add('', 'ratio to etcd baseline', pct(r.saturation.ratioToBaseline));
    add('', 'mean alert write batch', r.saturation.daemon.meanBatchSize);
    add('', 'CPU cores daemon / etcd / bench', cores(r.saturation.cpuCores));
  }
  if (r.startup) {
    const s = r.startup;
    add('startup', `objects / alerts`, `${s.objects} / ${s.alerts}`);
    add('', 'ready cold / warm', `${startText(s.cold)} / ${startText(s.warm)}`);
    add('', 'settled ms cold / warm', `${s.cold.settledMs} / ${s.warm.settledMs}`);
    add('', 'first run: ready / all alerts ms', `${s.create.readyMs} / ${s.create.allAlertsMs}`);
    add('', 'peak RSS MB cold / warm', `${s.cold.peakRssMB} / ${s.warm.peakRssMB}`);
    add('', 'alert writes by the restarts', s.cold.alertWrites + s.warm.alertWrites);
    if (s.cold.error) add('', 'cold start FAILED', s.cold.error);
    if (s.warm.error) add('', 'warm start FAILED', s.warm.error);
  }
  if (r.newpolicy) {
    add('newpolicy', `all alerts ms (${r.newpolicy.alertsSeen} alerts)`, r.newpolicy.allAlertsMs);
    add('', 'first alert ms', r.newpolicy.firstAlertMs);
  }
  if (r.storm) {
    add('storm', `updates / burst ms`, `${r.storm.updates} / ${r.storm.burstMs}`);
    add('', 'drain ms', `${r.storm.drainMs}${r.storm.drained ? '' : ' (not drained)'}`);
    add('', 'peak RSS MB', r.storm.peakRssMB);
    add('', 'CPU cores daemon / etcd / bench', cores(r.storm.cpuCores));
  }
  if (r.restart) {
    const a = r.restart.audit;
    add('restart', 'ready ms after SIGKILL', r.restart.readyMs);
    add(
      '',
      'settle ms after load',
      `${r.restart.settleMs}${r.restart.settled ? '' : ' (not settled)'}`,
    );
    add(
      '',
      'lost / duplicate / stale',
      `${a.lost} / ${a.duplicate} / ${a.stale} of ${a.expectedOpen}`,
    );
  }
  for (const [name, message] of Object.entries(report.errors)) add(name, 'FAILED', message);

  const targets: string[][] = [['target', 'goal', 'measured', 'result']];
  for (const t of report.targets) {
    const result =
      t.status === 'not run' || t.atTargetSize ? t.status : `${t.status} (smaller run)`;
    targets.push([t.name, t.goal, t.value, result]);
  }
  const m = report.machine;
  const head =
    `${m.date}  ${m.nproc} CPUs (${m.cpu}), ${m.memoryMB} MB, node ${m.node}, etcd ${m.etcd}\n` +
    `${m.command}\n`;
  const notes = report.notes.length
    ? `\nnotes:\n${report.notes.map((n) => `- ${n}\n`).join('')}`
    : '';
  return `${head}\n${columns(rows)}\n${columns(targets)}${notes}`;
}

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line), ''].join('\n');
}
