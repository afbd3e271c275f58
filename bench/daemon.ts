import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import type { Cleanup } from './cleanup.js';
import { freePort, stopProcess } from './cluster.js';
import { readCpuSeconds, readMemory, type Memory } from './procfs.js';

/**
 * The daemon under test, always a separate process (`node bin/alertmgr.js run`), so its
 * memory, CPU and start-up are its own. The bench reaches it only through etcd, plus
 * `/readyz` and `/metrics` on a loopback port and `/proc/<pid>/status` for memory.
 */

export interface DaemonSpec {
  readonly root: string;
  readonly endpoint: string;
  readonly prefix: string;
  readonly statePrefix: string;
  /** Where its stdout and stderr (JSON log lines) go. */
  readonly logFile: string;
  /** Folder for `node --cpu-prof` profiles, or undefined for none. */
  readonly cpuProfDir?: string | undefined;
  readonly extraArgs?: readonly string[];
}

export class DaemonProcess {
  /** `performance.now()` when the process was spawned. */
  readonly startedAt: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last error the daemon logged (message and cause), for failure reports. */
  lastError = '';
  private readonly unregister: () => Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    cleanup: Cleanup,
  ) {
    this.startedAt = performance.now();
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: child.exitCode, signal: null }));
    });
    this.unregister = cleanup.add(`kill daemon ${child.pid}`, () => stopProcess(child));
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.includes('"level":"error"')) this.noteError(line);
    });
  }

  /** Keeps the last logged error that carries a cause: the root, not "stopped on its own". */
  private noteError(line: string): void {
    try {
      const entry = JSON.parse(line) as { msg?: string; err?: unknown };
      if (typeof entry.err === 'string') this.lastError = `${entry.msg ?? ''}: ${entry.err}`;
      else if (!this.lastError) this.lastError = entry.msg ?? '';
    } catch {
      this.lastError ||= line.slice(0, 300);
    }
  }

  static async start(spec: DaemonSpec, cleanup: Cleanup): Promise<DaemonProcess> {
    const port = await freePort();
    const nodeArgs = spec.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${spec.cpuProfDir}`] : [];
    const args = [
      ...nodeArgs,
      join(spec.root, 'bin/alertmgr.js'),
      'run',
      `--etcd-endpoints=${spec.endpoint}`,
      `--prefix=${spec.prefix}`,
      `--state-prefix=${spec.statePrefix}`,
      `--http=127.0.0.1:${port}`,
      '--log-level=info',
      ...(spec.extraArgs ?? []),
    ];
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    log.write(`# node ${args.join(' ')}\n`);
    const child = spawn(process.execPath, args, {
      cwd: spec.root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: cleanEnv(),
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.once('exit', (code, signal) => {
      log.end(`# exited code=${code} signal=${signal}\n`);
    });
    return new DaemonProcess(child, port, cleanup);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** A process that never started (no pid) is not running and is never signalled. */
  get running(): boolean {
    const c = this.child;
    return c.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Polls /readyz until 200; returns milliseconds from spawn to the first 200. */
  async waitReady(timeoutMs = 120_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.running) {
        const { code, signal } = await this.exited;
        const why = this.lastError ? `; last error: ${this.lastError}` : '';
        throw new Error(
          `the daemon exited (code ${code}, signal ${signal}) before it was ready${why}`,
        );
      }
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/readyz`);
        await res.arrayBuffer();
        if (res.status === 200) return performance.now() - this.startedAt;
      } catch {
        // Not listening yet.
      }
      if (performance.now() > deadline) throw new Error(`daemon not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Waits until the daemon has counted at least `count` policy evaluations (the start-up
   * evaluation of every object against every policy is done after /readyz already says
   * ready). Returns milliseconds from spawn, or undefined after `timeoutMs`.
   */
  async waitEvaluations(count: number, timeoutMs = 300_000): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline && this.running) {
      try {
        const done = metricSum(await this.metrics(), 'alertmgr_evaluations_total');
        if (done >= count) return performance.now() - this.startedAt;
      } catch {
        // Busy or restarting; ask again.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return undefined;
  }

  /**
   * Waits until the start-up work is over: at least `evaluations` policy evaluations counted,
   * and then the process quiet (under 5% of a core) for 750 ms, since the alert stage may
   * still be applying verdicts after the last evaluation is counted. Returns milliseconds
   * from spawn to the start of the quiet period, or undefined after `timeoutMs`.
   */
  async waitSettled(evaluations: number, timeoutMs = 300_000): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    if ((await this.waitEvaluations(evaluations, timeoutMs)) === undefined) return undefined;
    let last = { at: performance.now(), cpu: readCpuSeconds(this.pid) ?? 0 };
    let quietSince: number | undefined;
    while (performance.now() < deadline && this.running) {
      await new Promise((r) => setTimeout(r, 250));
      const now = { at: performance.now(), cpu: readCpuSeconds(this.pid) ?? 0 };
      const cores = (now.cpu - last.cpu) / ((now.at - last.at) / 1000);
      if (cores >= 0.05) quietSince = undefined;
      else quietSince ??= last.at;
      last = now;
      if (quietSince !== undefined && now.at - quietSince >= 750) {
        return quietSince - this.startedAt;
      }
    }
    return undefined;
  }

  /** The daemon's /metrics as a map from series (`name{labels}`) to value. */
  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return parseMetrics(await res.text());
  }

  /** Memory from /proc (no HTTP round trip, works while the daemon is busy). */
  memory(): Memory | undefined {
    return readMemory(this.pid);
  }

  /** SIGKILL now: the crash of the restart scenario. */
  async crash(): Promise<void> {
    await stopProcess(this.child, 'SIGKILL');
    await this.unregister();
  }

  /** SIGTERM and wait for the drain (the contract allows 10 s), then SIGKILL. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const late = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(late);
    }
    await this.unregister();
    return this.exited;
  }
}

/** The bench's environment without `ALERTMGR_*` twins, which would override its flags' peers. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('ALERTMGR_')) delete env[name];
  return env;
}

/**
 * Polls the daemon's /metrics about once a second for chosen series (summed over labels):
 * heap and buffer memory, the backlog. A busy daemon answers late; polls never overlap.
 */
export class MetricsSampler {
  readonly points: Array<{ t: number; values: Record<string, number> }> = [];
  private busy = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly daemon: DaemonProcess,
    private readonly originMs: number,
    private readonly names: readonly string[],
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const metrics = await this.daemon.metrics();
      const values = Object.fromEntries(this.names.map((n) => [n, metricSum(metrics, n)]));
      this.points.push({ t: (performance.now() - this.originMs) / 1000, values });
    } catch {
      // The daemon is gone or restarting; the gap shows in the series.
    } finally {
      this.busy = false;
    }
  }

  /** One series as chart points, scaled (bytes to MB, say). */
  series(name: string, scale = 1): Array<[number, number]> {
    return this.points.map((p) => [p.t, (p.values[name] ?? 0) * scale]);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Parses Prometheus text format: comment lines skipped, one `series value` per line. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (cut > 0) out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

/** Sums every series of a metric, whatever its labels. */
export function metricSum(metrics: Map<string, number>, name: string): number {
  let sum = 0;
  for (const [series, value] of metrics) {
    if (series === name || series.startsWith(`${name}{`)) sum += value;
  }
  return sum;
}

/**
 * Builds dist/ when a source file is newer than the newest compiled file, so the daemon
 * under test is the code in src/. A failed build stops the bench: it would measure old code.
 */
export function ensureBuilt(root: string, say: (line: string) => void): void {
  const newestSource = Math.max(
    newestMtime(join(root, 'src')),
    statSync(join(root, 'tsconfig.build.json')).mtimeMs,
  );
  const newestBuild = newestMtime(join(root, 'dist'), '.js');
  if (newestBuild >= newestSource) return;
  say('dist/ is older than src/: running npm run build');
  const res = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`npm run build failed (exit ${res.status})`);
}

function newestMtime(dir: string, suffix = ''): number {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, suffix));
    else if (entry.name.endsWith(suffix)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}
