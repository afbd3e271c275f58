import type { Clock } from '../clock.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { CompiledDestination } from '../model/index.js';
import type { Notification, SinkFactory } from './types.js';
import { ExportWorker } from './worker.js';

/** The export blocks a destination may carry, in the order they appear in its spec. */
export const EXPORT_KINDS = ['syslogExport', 'webhookExport', 'alertmanagerExport', 'fileExport'];

export interface DestinationOptions {
  readonly compiled: CompiledDestination;
  readonly sinks: Readonly<Record<string, SinkFactory>>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/**
 * One AlertDestination: a worker per export it carries, each with its own queue, so one
 * slow export (a hanging webhook) never holds back another (the file next to it).
 */
export class Destination {
  readonly name: string;
  private readonly workers: ExportWorker[] = [];

  constructor(o: DestinationOptions) {
    const { ref } = o.compiled;
    this.name = `${ref.tenant}/${ref.name}`;
    const config = o.compiled as unknown as Record<string, unknown>;
    for (const kind of Object.keys(o.sinks)) {
      if (config[kind] === undefined) continue;
      const sink = o.sinks[kind]!(config[kind], { log: o.log, clock: o.clock });
      this.workers.push(
        new ExportWorker({
          destination: this.name,
          kind,
          sink,
          clock: o.clock,
          log: o.log,
          metrics: o.metrics,
          timeoutMs: sendTimeoutMs(config[kind]),
        }),
      );
    }
    const unsupported = EXPORT_KINDS.filter((k) => config[k] !== undefined && !o.sinks[k]);
    if (unsupported.length > 0) {
      o.log.warn(
        { [F.destination]: this.name, kinds: unsupported },
        'destination has export kinds this build cannot send yet; they are skipped',
      );
    }
  }

  get idle(): boolean {
    return this.workers.every((w) => w.idle);
  }

  send(notification: Notification): void {
    for (const worker of this.workers) worker.enqueue(notification);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }
}

/**
 * The worker's bound on one send. An export with a timeout of its own (a webhook's) gets a
 * little more than that, so the export's own timeout is the one that fires and says why.
 */
function sendTimeoutMs(config: unknown): number {
  const own = (config as { timeoutMs?: unknown }).timeoutMs;
  return typeof own === 'number' && own > 0 ? own + 1_000 : 10_000;
}
