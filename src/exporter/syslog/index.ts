import { hostname } from 'node:os';

import { DeliveryError } from '../../errors.js';
import type { CompiledSyslogExport } from '../../model/index.js';
import type { Notification, Sink, SinkContext, SinkFactory } from '../types.js';
import { formatMessage, type SyslogOrigin } from './format.js';
import { openTransport, type SyslogTransport } from './transport.js';

export interface SyslogSinkOptions {
  /** HOSTNAME in the header. Default: the host's name. */
  readonly hostname?: string;
  /** PROCID in the header. Default: this process's id. */
  readonly procId?: string;
  /**
   * Bounds connecting and each write to a target, in milliseconds. Default 5,000: inside the
   * export worker's own timeout, so the error logged is this one, which names the target.
   */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** `syslogExport`: each notification as one syslog message to every target. */
export const syslogSink: SinkFactory<CompiledSyslogExport> = (config, context) =>
  createSyslogSink(config, context);

export function createSyslogSink(
  config: CompiledSyslogExport,
  context: SinkContext,
  options: SyslogSinkOptions = {},
): Sink {
  return new SyslogSink(config, context, options);
}

/**
 * Sends to all targets at once; a notification is delivered when every target took it.
 * When some did not, `send` rejects and the worker retries, and the retry goes only to the
 * targets still missing, so the healthy ones do not collect a duplicate per attempt.
 */
class SyslogSink implements Sink {
  private readonly origin: SyslogOrigin;
  private readonly transports: SyslogTransport[];
  /**
   * The targets that took the notification now being retried. Only the latest is kept: the
   * worker retries one notification until it gives up before it sends the next.
   */
  private progress: { id: string; done: Set<SyslogTransport> } | undefined;

  constructor(
    private readonly config: CompiledSyslogExport,
    private readonly context: SinkContext,
    options: SyslogSinkOptions,
  ) {
    this.origin = {
      facilityCode: config.facilityCode,
      appName: config.prefix,
      hostname: options.hostname ?? hostname(),
      procId: options.procId ?? String(process.pid),
    };
    const transportOptions = {
      clock: context.clock,
      log: context.log,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    };
    this.transports = config.targets.map((target) => openTransport(target, transportOptions));
  }

  async send(notification: Notification): Promise<void> {
    const text = formatMessage(
      this.config.format,
      notification,
      this.origin,
      this.timeOf(notification),
    );
    const message = Buffer.from(text, 'utf8');
    if (this.progress?.id !== notification.id) {
      this.progress = { id: notification.id, done: new Set() };
    }
    const { done } = this.progress;

    const pending = this.transports.filter((transport) => !done.has(transport));
    const results = await Promise.allSettled(pending.map((transport) => transport.send(message)));

    const failures: unknown[] = [];
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') done.add(pending[index]!);
      else failures.push(result.reason);
    });
    if (failures.length > 0) throw combine(failures);
    this.progress = undefined;
  }

  async close(): Promise<void> {
    await Promise.all(this.transports.map((transport) => transport.close()));
  }

  /**
   * The change's own time, so every retry sends the same bytes; the clock stands in only
   * for a time that does not parse.
   */
  private timeOf(notification: Notification): Date {
    const time = new Date(notification.time);
    return Number.isNaN(time.getTime()) ? new Date(this.context.clock.now()) : time;
  }
}

/** One error for all failed targets: retryable while any of them may still take it. */
function combine(failures: unknown[]): DeliveryError {
  const errors = failures.map((failure) =>
    failure instanceof DeliveryError
      ? failure
      : new DeliveryError('syslog', String(failure), { retryable: true, cause: failure }),
  );
  if (errors.length === 1) return errors[0]!;

  return new DeliveryError(
    errors.map((error) => error.destination).join(', '),
    errors.map((error) => error.message).join('; '),
    { retryable: errors.some((error) => error.retryable), cause: new AggregateError(errors) },
  );
}
