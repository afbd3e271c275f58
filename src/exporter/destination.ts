import type { Clock } from '../clock.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { CompiledDestination } from '../model/index.js';
import type { Notification, Sink, SinkFactory } from './types.js';
import { ExportWorker } from './worker.js';

/** The export blocks a destination may carry, in the order they appear in its spec. */
export const EXPORT_KINDS = ['syslogExport', 'webhookExport', 'alertmanagerExport', 'fileExport'];

export interface DestinationOptions {
  readonly compiled: CompiledDestination;
  readonly sinks: Readonly<Record<string, SinkFactory>>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Every export is done with the notification: its outbox record can go. */
  readonly onSettled: (notification: Notification) => void;
}

/** What the destination reports in its `status`. */
export interface DestinationCounters {
  /** Notifications sent by this process (the stored count is added by the status writer). */
  sent: number;
  lastError: string;
  /** Bumped on every change, so the status writer knows when to write. */
  version: number;
}

/**
 * One AlertDestination: a worker per export it carries, each with its own queue, so one
 * slow export (a hanging webhook) never holds back another (the file next to it). A
 * notification is settled once every export is done with it.
 */
export class Destination {
  readonly name: string;
  readonly counters: DestinationCounters = { sent: 0, lastError: '', version: 0 };
  private readonly workers: ExportWorker[] = [];
  /** Notification id → exports not yet done with it. */
  private readonly unsettled = new Map<string, number>();

  constructor(private readonly o: DestinationOptions) {
    const { ref } = o.compiled;
    this.name = `${ref.tenant}/${ref.name}`;
    const exports = exportsOf(o.compiled);
    for (const [kind, config] of exports) {
      const factory = o.sinks[kind];
      if (!factory) continue;
      let sink: Sink;
      try {
        sink = factory(config, { log: o.log, clock: o.clock, destination: this.name });
      } catch (err) {
        // A plug-in's own check of its block: this export is skipped, the others still run.
        const message = err instanceof Error ? err.message : String(err);
        o.log.warn({ [F.destination]: this.name, kind, [F.err]: message }, 'export not usable');
        this.counters.lastError = `${kind}: ${message}`;
        continue;
      }
      this.workers.push(
        new ExportWorker({
          destination: this.name,
          kind,
          sink,
          clock: o.clock,
          log: o.log,
          metrics: o.metrics,
          timeoutMs: sendTimeoutMs(config),
          onSettled: (n) => this.settle(n),
          onResult: (result) => this.record(result),
        }),
      );
    }
    const unsupported = exports.map(([kind]) => kind).filter((kind) => !o.sinks[kind]);
    if (unsupported.length > 0) {
      o.log.warn(
        { [F.destination]: this.name, kinds: unsupported },
        'destination has export kinds this build cannot send; they are skipped',
      );
    }
  }

  get idle(): boolean {
    return this.workers.every((w) => w.idle);
  }

  /** Notifications waiting, over all exports. */
  get queued(): number {
    return this.workers.reduce((sum, w) => sum + w.queued, 0);
  }

  send(notification: Notification): void {
    if (this.workers.length === 0) {
      this.o.onSettled(notification);
      return;
    }
    this.unsettled.set(notification.id, this.workers.length);
    for (const worker of this.workers) worker.enqueue(notification);
  }

  /** Stops every export; returns the notifications some export had not delivered yet. */
  async close(): Promise<Notification[]> {
    const left = await Promise.all(this.workers.map((w) => w.close()));
    const byId = new Map(left.flat().map((n) => [n.id, n]));
    return [...byId.values()];
  }

  private settle(notification: Notification): void {
    const remaining = (this.unsettled.get(notification.id) ?? 1) - 1;
    if (remaining > 0) {
      this.unsettled.set(notification.id, remaining);
      return;
    }
    this.unsettled.delete(notification.id);
    this.o.onSettled(notification);
  }

  private record(result: { sent: boolean; error?: string }): void {
    if (result.sent) this.counters.sent++;
    else this.counters.lastError = result.error ?? 'unknown error';
    this.counters.version++;
  }
}

/** Every export block of a destination, built-in and plug-in, with its kind. */
function exportsOf(compiled: CompiledDestination): Array<[string, unknown]> {
  const builtin = EXPORT_KINDS.map(
    (kind) => [kind, (compiled as unknown as Record<string, unknown>)[kind]] as [string, unknown],
  ).filter(([, config]) => config !== undefined);
  return [...builtin, ...Object.entries(compiled.custom ?? {})];
}

/**
 * The worker's bound on one send. An export with a timeout of its own (a webhook's) gets a
 * little more than that, so the export's own timeout is the one that fires and says why.
 */
function sendTimeoutMs(config: unknown): number {
  const own = (config as { timeoutMs?: unknown }).timeoutMs;
  return typeof own === 'number' && own > 0 ? own + 1_000 : 10_000;
}
