import pino, { type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * One vocabulary of log fields for the whole daemon, so a query for an alert or a policy
 * finds every line about it. Use these names, never ad-hoc spellings.
 */
export const F = {
  alert: 'alert',
  policy: 'policy',
  object: 'object',
  destination: 'destination',
  revision: 'revision',
  attempt: 'attempt',
  key: 'key',
  stage: 'stage',
  generation: 'generation',
  err: 'err',
} as const;

export interface LogOptions {
  readonly level?: LevelWithSilent;
  /** Where JSON lines go; standard output by default. */
  readonly destination?: NodeJS.WritableStream;
  /**
   * Lines for a person at a terminal (`12:00:01 INFO  alert open alert=… policy=…`) instead
   * of JSON. The CLI turns it on when standard output is a terminal.
   */
  readonly pretty?: boolean;
}

/** Paths whose values are replaced before a line is written: secrets never reach a log. */
const REDACT = [
  'password',
  '*.password',
  'headers.authorization',
  'headers.Authorization',
  '*.headers',
  '*.*.headers',
];

export function createLogger(options: LogOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'alertmgr' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.pretty ? readable(destination) : (destination as pino.DestinationStream),
  );
}

/** Fields every line has, shown in its own place rather than as `key=value`. */
const FIXED = new Set(['level', 'time', 'msg', 'app']);

/** A destination that turns each JSON line into one line a person reads at a glance. */
function readable(out: NodeJS.WritableStream): { write(line: string): void } {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
      const level = text(record.level).toUpperCase().padEnd(5);
      const fields = Object.entries(record)
        .filter(([key]) => !FIXED.has(key))
        .map(([key, value]) => `${key}=${text(value)}`);
      out.write(`${[time, level, text(record.msg), ...fields].join(' ')}\n`);
    },
  };
}

/** A logger that writes nothing, for unit tests and the demo's quiet pipeline. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function text(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
