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
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'alertmgr' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for unit tests and the demo's quiet pipeline. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
