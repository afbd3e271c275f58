import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  SCENARIOS,
  USAGE,
  UsageError,
  parseBenchArgs,
  type BenchOptions,
  type ScenarioName,
} from './args.js';
import { writeCharts } from './charts.js';
import { Cleanup } from './cleanup.js';
import { openCluster } from './cluster.js';
import type { Context } from './context.js';
import { ensureBuilt } from './daemon.js';
import { Progress } from './progress.js';
import {
  evaluateTargets,
  renderTable,
  summarize,
  type Machine,
  type Report,
  type Results,
} from './report.js';
import { runBaseline } from './scenarios/baseline.js';
import { runNewPolicy } from './scenarios/newpolicy.js';
import { runRestart } from './scenarios/restart.js';
import { runSaturation } from './scenarios/saturation.js';
import { runStartup } from './scenarios/startup.js';
import { runSteady } from './scenarios/steady.js';
import { runStorm } from './scenarios/storm.js';

/**
 * `npm run bench`: starts etcd (or uses --etcd-endpoints), measures the raw etcd baseline,
 * then runs each chosen scenario against a daemon in its own process, driving it through
 * etcd only. Ends with a table on stdout, and the JSON report and SVG charts on disk.
 * Everything started is torn down at the end, on an error and on Ctrl-C.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const RUNNERS: Record<ScenarioName, (ctx: Context) => Promise<unknown>> = {
  steady: runSteady,
  saturation: runSaturation,
  startup: runStartup,
  newpolicy: runNewPolicy,
  storm: runStorm,
  restart: runRestart,
};

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv, join(ROOT, 'bench/out'));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const progress = new Progress();
  const cleanup = new Cleanup();
  cleanup.onSignals(() => progress.clear());
  try {
    ensureBuilt(ROOT, (line) => progress.log(line));
    // Facts of the code under test, taken when dist/ was checked, not at the end.
    const startedOn = machine('', argv);
    mkdirSync(options.outDir, { recursive: true });
    removeOldOutputs(options.outDir);
    const cluster = await openCluster(options.etcdEndpoint, cleanup);
    cleanup.add('stop etcd', () => cluster.stop());
    progress.log(
      `etcd ${cluster.version} on ${cluster.endpoint}${cluster.owned ? '' : ' (given)'}`,
    );
    const ctx: Context = {
      options,
      cluster,
      progress,
      cleanup,
      root: ROOT,
      runId: `${Date.now().toString(36)}${process.pid.toString(36)}`,
      baselinePutsPerSec: NaN,
      notes: [],
    };

    const results: Results = {};
    const errors: Report['errors'] = {};
    results.baseline = await runBaseline(ctx);
    ctx.baselinePutsPerSec = results.baseline.putsPerSec;
    progress.log(
      `baseline: ${results.baseline.putsPerSec} puts/s in transactions of 128 ` +
        `(${results.baseline.pipelinedPutsPerSec}/s with 4 in flight)`,
    );
    for (const name of options.scenarios) {
      if (cleanup.interrupted) break;
      try {
        (results as Record<string, unknown>)[name] = await RUNNERS[name](ctx);
      } catch (err) {
        errors[name] = err instanceof Error ? err.message : String(err);
        progress.log(`${name}: FAILED: ${errors[name]}`);
      }
    }

    // Interrupted: the signal handler tears down and exits; a partial report would mislead.
    if (cleanup.interrupted) return 130;
    const summary = summarize(results);
    const report: Report = {
      machine: { ...startedOn, etcd: cluster.version },
      options: { quick: options.quick, scenarios: options.scenarios, sizes: options.sizes },
      results,
      errors,
      notes: ctx.notes,
      summary,
      targets: evaluateTargets(results, summary),
      charts: writeCharts(options.outDir, results).map((f) => join(options.outDir, f)),
    };
    if (options.jsonFile) {
      mkdirSync(dirname(options.jsonFile), { recursive: true });
      writeFileSync(options.jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    }
    progress.clear();
    process.stdout.write(`\n${renderTable(report)}`);
    process.stdout.write(
      `\ncharts: ${report.charts.join(', ')}\n` +
        `${options.jsonFile ? `report: ${options.jsonFile}\n` : ''}` +
        `daemon logs: ${join(options.outDir, 'logs')}\n`,
    );
    return Object.keys(errors).length > 0 ? 1 : 0;
  } finally {
    progress.clear();
    await cleanup.runAll();
  }
}

/**
 * Daemon logs and profiles of an earlier run would mix with this run's. Only files the bench
 * itself names are removed, whatever folder `--out` points at.
 */
function removeOldOutputs(outDir: string): void {
  const ours = new RegExp(`^(${SCENARIOS.join('|')})-\\d+\\.log$`);
  const remove = (dir: string, keep: (name: string) => boolean) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) if (!keep(name)) rmSync(join(dir, name), { force: true });
  };
  remove(join(outDir, 'logs'), (name) => !ours.test(name));
  for (const scenario of SCENARIOS) {
    remove(join(outDir, 'prof', scenario), (name) => !name.endsWith('.cpuprofile'));
  }
}

function machine(etcd: string, argv: string[]): Machine {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const dirty = git(['status', '--porcelain', '--', 'src']) ? ' (src modified)' : '';
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMB: Math.round(totalmem() / 2 ** 20),
    os: `${type()} ${release()}`,
    node: process.version,
    etcd,
    date: new Date().toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    commit: `${git(['rev-parse', '--short', 'HEAD']) || 'unknown'}${dirty}`,
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
