import type { Clock } from '../clock.js';
import { AlertmgrError } from '../errors.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Notification, Sink } from './types.js';

export interface WorkerOptions {
  /** `<tenant>/<name>` of the destination, and the export kind, for logs and metrics. */
  readonly destination: string;
  readonly kind: string;
  readonly sink: Sink;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Notifications waiting beyond this are dropped (counted and logged): memory stays bounded. */
  readonly maxQueue?: number;
  readonly attempts?: number;
  readonly timeoutMs?: number;
}

/**
 * Delivers one export of one destination, in order, with its own queue: a slow or dead
 * receiver only ever delays itself. Each notification is tried a few times with growing
 * pauses, each try bounded by a timeout, then dropped and counted.
 */
export class ExportWorker {
  private readonly queue: Notification[] = [];
  private running = false;
  private closed = false;
  private droppedLogged = 0;

  constructor(private readonly o: WorkerOptions) {}

  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  enqueue(notification: Notification): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.maxQueue ?? 10_000)) {
      this.o.metrics.notifications.inc({ destination: this.o.destination, result: 'dropped' });
      const now = this.o.clock.now();
      if (now - this.droppedLogged > 10_000) {
        this.droppedLogged = now;
        this.o.log.warn(
          { [F.destination]: this.o.destination, kind: this.o.kind },
          'queue full: dropping notifications',
        );
      }
      return;
    }
    this.queue.push(notification);
    if (!this.running) void this.drain();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await this.o.sink.close();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      const notification = this.queue[0]!;
      await this.deliver(notification);
      this.queue.shift();
    }
    this.running = false;
  }

  private async deliver(notification: Notification): Promise<void> {
    const attempts = this.o.attempts ?? 5;
    for (let attempt = 1; attempt <= attempts && !this.closed; attempt++) {
      try {
        await withTimeout(this.o.sink.send(notification), this.o.timeoutMs ?? 10_000);
        this.o.metrics.notifications.inc({ destination: this.o.destination, result: 'sent' });
        return;
      } catch (err) {
        this.o.metrics.notifications.inc({ destination: this.o.destination, result: 'failed' });
        this.o.log.warn(
          {
            [F.destination]: this.o.destination,
            kind: this.o.kind,
            [F.attempt]: attempt,
            [F.err]: String(err),
          },
          'notification failed',
        );
        // A receiver that refuses the notification itself (a 4xx) will refuse it again.
        if (err instanceof AlertmgrError && !err.retryable) break;
        if (attempt < attempts) await this.pause(Math.min(5_000, 200 * 2 ** (attempt - 1)));
      }
    }
    this.o.metrics.notifications.inc({ destination: this.o.destination, result: 'dropped' });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.clock.setTimer(ms, resolve));
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
