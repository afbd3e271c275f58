import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * What Linux says about a process the bench started: resident memory (VmRSS, and VmHWM, the
 * peak the kernel has seen) and CPU time, read from /proc so that measuring costs the
 * measured process nothing.
 */

export interface Memory {
  /** Resident set now (VmRSS), MB. */
  readonly rssMB: number;
  /** Highest resident set of the process so far (VmHWM), MB. */
  readonly peakMB: number;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS = 100;

export function readMemory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** A process whose memory can be sampled (the daemon under test). */
export interface Sampled {
  memory(): Memory | undefined;
}

/** Samples a daemon's resident memory a few times a second, for the peak and the chart. */
export class MemorySampler {
  readonly points: Array<[number, number]> = [];
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private daemon: Sampled,
    private readonly originMs: number,
    intervalMs = 200,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Samples another process from now on (the daemon restarted); the peak spans both. */
  track(daemon: Sampled): void {
    this.sample();
    this.daemon = daemon;
  }

  sample(): void {
    const mem = this.daemon.memory();
    if (!mem) return;
    this.peak = Math.max(this.peak, mem.peakMB, mem.rssMB);
    this.points.push([(performance.now() - this.originMs) / 1000, mem.rssMB]);
  }

  /** The highest resident set seen (VmHWM included, so spikes between samples count). */
  get peakMB(): number {
    return this.peak;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU used by several processes over a span, in cores (CPU seconds per wall second): on a
 * two-core machine the daemon, etcd and the bench's own driver share two cores, and this
 * says who had them.
 */
export class CpuMeter {
  private readonly wallStart = performance.now();
  private readonly starts = new Map<string, number>();
  private readonly selfStart = process.cpuUsage();

  constructor(private readonly pids: Readonly<Record<string, number | undefined>>) {
    for (const [name, pid] of Object.entries(pids)) {
      const cpu = pid ? readCpuSeconds(pid) : undefined;
      if (cpu !== undefined) this.starts.set(name, cpu);
    }
  }

  /** Cores used per process since the meter started, with `bench` for this process. */
  read(): Record<string, number> {
    const wall = (performance.now() - this.wallStart) / 1000;
    const out: Record<string, number> = {};
    for (const [name, start] of this.starts) {
      const now = readCpuSeconds(this.pids[name]!);
      if (now !== undefined) out[name] = Math.round(((now - start) / wall) * 100) / 100;
    }
    const self = process.cpuUsage(this.selfStart);
    out.bench = Math.round(((self.user + self.system) / 1e6 / wall) * 100) / 100;
    return out;
  }
}
