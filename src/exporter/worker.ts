import type { Clock, Timer } from '../clock.js';
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
  readonly timeoutMs?: number;
  /** Consecutive failures after which the receiver counts as down (the circuit opens). */
  readonly breakAfter?: number;
  /** The pause between tries while the circuit is open. */
  readonly openPauseMs?: number;
  /** The notification is done with: delivered, refused for good, or dropped. */
  readonly onSettled: (notification: Notification) => void;
  /** Every try's outcome, for the destination's status. */
  readonly onResult?: (result: { sent: boolean; error?: string }) => void;
}

/**
 * Delivers one export of one destination, in order, with its own queue: a slow or dead
 * receiver only ever delays itself. A failure the receiver may get over (network, timeout,
 * 5xx, 429) is tried again with growing pauses, as long as it takes; after `breakAfter`
 * failures in a row the circuit opens: the receiver counts as down, tries slow to one every
 * `openPauseMs`, and notifications wait in the bounded queue. A failure it will not get over
 * (another 4xx) drops that notification.
 */
export class ExportWorker {
  private readonly queue: Notification[] = [];
  private running = false;
  private closed = false;
  private droppedLogged = 0;
  private failures = 0;
  private pauseTimer: { timer: Timer; wake: () => void } | undefined;

  constructor(private readonly o: WorkerOptions) {}

  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  get queued(): number {
    return this.queue.length;
  }

  get circuitOpen(): boolean {
    return this.failures >= (this.o.breakAfter ?? 5);
  }

  enqueue(notification: Notification): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.maxQueue ?? 10_000)) {
      this.count('dropped');
      this.o.onSettled(notification);
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

  /**
   * Stops at once, even in the middle of a try, and returns what was not delivered, so a
   * replacement worker can take it over.
   */
  async close(): Promise<Notification[]> {
    this.closed = true;
    const left = this.queue.splice(0);
    if (this.pauseTimer) {
      this.o.clock.clearTimer(this.pauseTimer.timer);
      this.pauseTimer.wake();
    }
    await this.o.sink.close();
    return left;
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.closed) {
      const notification = this.queue[0]!;
      const settled = await this.deliver(notification);
      if (this.closed) break;
      this.queue.shift();
      if (settled) this.o.onSettled(notification);
    }
    this.running = false;
  }

  /** Tries until the notification is sent or refused for good; false if closed first. */
  private async deliver(notification: Notification): Promise<boolean> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await withTimeout(this.o.sink.send(notification), this.o.timeoutMs ?? 10_000);
        this.succeeded();
        return true;
      } catch (err) {
        const permanent = err instanceof AlertmgrError && !err.retryable;
        this.failed(notification, attempt, err, permanent);
        if (permanent) return true;
        await this.pause(this.backoff(attempt));
      }
    }
    return false;
  }

  private succeeded(): void {
    if (this.circuitOpen) {
      this.o.log.info(
        { [F.destination]: this.o.destination, kind: this.o.kind },
        'destination reachable again',
      );
    }
    this.failures = 0;
    this.count('sent');
    this.o.onResult?.({ sent: true });
  }

  private failed(notification: Notification, attempt: number, err: unknown, permanent: boolean) {
    const wasOpen = this.circuitOpen;
    this.failures++;
    this.count(permanent ? 'dropped' : 'failed');
    this.o.onResult?.({ sent: false, error: err instanceof Error ? err.message : String(err) });
    const fields = {
      [F.destination]: this.o.destination,
      kind: this.o.kind,
      notification: notification.id,
      [F.attempt]: attempt,
      [F.err]: err instanceof Error ? err.message : String(err),
    };
    if (permanent) this.o.log.warn(fields, 'notification refused; dropping it');
    else if (this.circuitOpen && !wasOpen) {
      this.o.log.warn(fields, 'destination unreachable; holding its notifications');
    } else if (!this.circuitOpen) this.o.log.warn(fields, 'notification failed; retrying');
  }

  private backoff(attempt: number): number {
    if (this.circuitOpen) return this.o.openPauseMs ?? 30_000;
    return Math.min(5_000, 200 * 2 ** (attempt - 1));
  }

  private count(result: 'sent' | 'failed' | 'dropped'): void {
    this.o.metrics.notifications.inc({ destination: this.o.destination, result });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.pauseTimer = undefined;
        resolve();
      };
      this.pauseTimer = { timer: this.o.clock.setTimer(ms, wake), wake };
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
