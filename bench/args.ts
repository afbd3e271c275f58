import { parseArgs } from 'node:util';

/**
 * The bench's command line in three layers: the flags a user types, the sizes each preset
 * (full or `--quick`) gives every scenario, and the compiled `BenchOptions` the scenarios
 * read. Parsing is pure so that it can be tested without starting anything.
 */

export const SCENARIOS = [
  'steady',
  'saturation',
  'startup',
  'newpolicy',
  'storm',
  'restart',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

export interface BenchSizes {
  /** Managed objects of the steady, saturation, storm and restart scenarios (N). */
  readonly objects: number;
  /** Alert policies over them (P); each matches one fault value. */
  readonly policies: number;
  /** Object changes per second in the steady and restart scenarios (R). */
  readonly rate: number;
  /** How long the steady scenario drives changes at `rate`, after the warm-up. */
  readonly steadyMs: number;
  /** An unmeasured run at `rate` before the measured one. */
  readonly warmupMs: number;
  /** Object changes the saturation scenario writes in all. */
  readonly saturationChanges: number;
  /** Changes the saturation driver may have written and not yet seen answered by an alert. */
  readonly saturationWindow: number;
  /** Managed objects of the start-up and new-policy scenarios. */
  readonly largeObjects: number;
  /** Alerts already in etcd when the start-up scenario starts the daemon. */
  readonly startupAlerts: number;
  /** Object updates of the storm scenario's burst. */
  readonly stormUpdates: number;
  /** How long the restart scenario drives changes in all; the kill comes a third of the way. */
  readonly restartLoadMs: number;
  /** How long the daemon stays dead in the restart scenario while changes go on. */
  readonly restartDownMs: number;
  /** How long the raw etcd baseline writes. */
  readonly baselineMs: number;
  /** The longest wait for the daemon to catch up with what the driver wrote. */
  readonly settleTimeoutMs: number;
}

export const FULL_SIZES: BenchSizes = {
  objects: 10_000,
  policies: 100,
  rate: 1_000,
  steadyMs: 30_000,
  warmupMs: 5_000,
  saturationChanges: 60_000,
  saturationWindow: 4_096,
  largeObjects: 100_000,
  startupAlerts: 10_000,
  stormUpdates: 100_000,
  restartLoadMs: 12_000,
  restartDownMs: 3_000,
  baselineMs: 10_000,
  settleTimeoutMs: 180_000,
};

export const QUICK_SIZES: BenchSizes = {
  objects: 2_000,
  policies: 20,
  rate: 1_000,
  steadyMs: 5_000,
  warmupMs: 3_000,
  saturationChanges: 8_000,
  saturationWindow: 2_048,
  largeObjects: 10_000,
  startupAlerts: 1_000,
  stormUpdates: 10_000,
  restartLoadMs: 6_000,
  restartDownMs: 1_500,
  baselineMs: 3_000,
  settleTimeoutMs: 30_000,
};

export interface BenchOptions {
  readonly scenarios: readonly ScenarioName[];
  readonly quick: boolean;
  readonly sizes: BenchSizes;
  /** Where the full JSON report goes; charts and logs go to its folder. */
  readonly jsonFile: string | undefined;
  /** Folder of charts and daemon logs. */
  readonly outDir: string;
  /** An etcd to use instead of starting one (loopback only). */
  readonly etcdEndpoint: string | undefined;
  /** Start the daemons with `node --cpu-prof`; profiles go to `<outDir>/prof`. */
  readonly cpuProf: boolean;
  readonly help: boolean;
}

export class UsageError extends Error {
  readonly code = 'BENCH_USAGE';
}

export const USAGE = `usage: npm run bench -- [options]

  --scenario NAMES       comma-separated, from: ${SCENARIOS.join(', ')} (default: all)
  --quick                every scenario small: the whole run takes under 2 minutes
  --json FILE            write the full report there; charts and logs go next to it
  --out DIR              folder of charts and daemon logs (default bench/out)
  --etcd-endpoints URL   use this loopback etcd instead of starting one
  --objects N            managed objects (N)                  [full 10000, quick 2000]
  --policies P           alert policies                       [full 100, quick 20]
  --rate R               changes per second, steady/restart   [1000]
  --duration SECONDS     how long the steady scenario runs    [full 30, quick 5]
  --large-objects N      objects of start-up and new policy   [full 100000, quick 10000]
  --startup-alerts A     alerts present at start-up           [full 10000, quick 1000]
  --storm-updates U      updates in the storm burst           [full 100000, quick 10000]
  --cpu-prof             profile the daemons (node --cpu-prof) into <out>/prof
  -h, --help             this text

The raw etcd baseline (puts/s in transactions of 128) is measured in every run.`;

const NUMERIC_FLAGS = {
  objects: 'objects',
  policies: 'policies',
  rate: 'rate',
  'large-objects': 'largeObjects',
  'startup-alerts': 'startupAlerts',
  'storm-updates': 'stormUpdates',
} as const satisfies Record<string, keyof BenchSizes>;

/** Compiles the command line (without `node` and the script) into options. */
export function parseBenchArgs(argv: readonly string[], defaultOutDir = 'bench/out'): BenchOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string', multiple: true },
        quick: { type: 'boolean' },
        json: { type: 'string' },
        out: { type: 'string' },
        'etcd-endpoints': { type: 'string' },
        objects: { type: 'string' },
        policies: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        'large-objects': { type: 'string' },
        'startup-alerts': { type: 'string' },
        'storm-updates': { type: 'string' },
        'cpu-prof': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  const quick = v.quick ?? false;
  const sizes: Record<keyof BenchSizes, number> = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
  for (const [flag, field] of Object.entries(NUMERIC_FLAGS)) {
    const text = v[flag as keyof typeof NUMERIC_FLAGS];
    if (text !== undefined) sizes[field] = readCount(text, `--${flag}`);
  }
  if (v.duration !== undefined) sizes.steadyMs = readSeconds(v.duration, '--duration') * 1000;
  if (sizes.startupAlerts > sizes.largeObjects) {
    throw new UsageError('--startup-alerts cannot exceed --large-objects');
  }
  if (sizes.objects < 128) throw new UsageError('--objects must be at least 128');
  if (sizes.policies > 999) throw new UsageError('--policies must be at most 999');

  const jsonFile = v.json;
  const outDir = v.out ?? (jsonFile ? dirnameOf(jsonFile) : defaultOutDir);
  return {
    scenarios: readScenarios(v.scenario ?? []),
    quick,
    sizes,
    jsonFile,
    outDir,
    etcdEndpoint: v['etcd-endpoints'] === undefined ? undefined : readEndpoint(v['etcd-endpoints']),
    cpuProf: v['cpu-prof'] ?? false,
    help: v.help ?? false,
  };
}

function readScenarios(values: readonly string[]): ScenarioName[] {
  const names = values.flatMap((s) => s.split(',')).map((s) => s.trim());
  if (names.length === 0 || names.includes('all')) return [...SCENARIOS];
  const chosen = new Set<ScenarioName>();
  for (const name of names) {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new UsageError(`--scenario: unknown scenario "${name}" (${SCENARIOS.join(', ')})`);
    }
    chosen.add(name as ScenarioName);
  }
  // Scenarios always run in the canonical order, whatever order they were named in.
  return SCENARIOS.filter((s) => chosen.has(s));
}

/** A positive whole number; `10k` and `100_000` are accepted for readability. */
export function readCount(text: string, flag: string): number {
  const match = /^(\d[\d_]*)(k?)$/i.exec(text.trim());
  const n = match ? Number(match[1]!.replaceAll('_', '')) * (match[2] ? 1000 : 1) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${flag}: expected a positive whole number, got "${text}"`);
  }
  return n;
}

function readSeconds(text: string, flag: string): number {
  const n = Number(text.replace(/s$/, ''));
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${flag}: expected seconds, got "${text}"`);
  }
  return n;
}

/** Only loopback etcd servers: the bench loads what it writes to very hard. */
function readEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--etcd-endpoints: not a URL: "${text}"`);
  }
  if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    throw new UsageError(`--etcd-endpoints: only http:// on loopback is allowed, got "${text}"`);
  }
  return url.origin;
}

function dirnameOf(file: string): string {
  const slash = file.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : file.slice(0, slash);
}
