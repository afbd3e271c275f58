import type { Clock, Timer } from '../clock.js';
import { AlertmgrError } from '../errors.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import {
  compileDestination,
  decodeObject,
  DESTINATION_KIND,
  formatKey,
  type CompiledDestination,
} from '../model/index.js';
import {
  mergeStatus,
  storedCount,
  type KeyValue,
  type Store,
  type WatchEvent,
} from '../store/index.js';
import type { DestinationCounters } from './destination.js';
import type { Outbox } from './outbox.js';
import type { Notification } from './types.js';

/** The per-destination children, as the stage sees them (nact actors in production). */
export interface DestinationChildren {
  spawn(name: string, compiled: CompiledDestination): void;
  stop(name: string): void;
  send(name: string, notification: Notification): void;
  /** The running destinations by `<tenant>/<name>`, for their status. */
  destinations(): Array<[string, { readonly counters: DestinationCounters }]>;
}

export interface ExporterStageOptions {
  readonly prefix: string;
  readonly store: Store;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly children: DestinationChildren;
  /** Runs a continuation in the stage's own turn. */
  readonly schedule: (work: () => void | Promise<void>) => void;
  /** How often destination status (notifications sent, last error) is written. */
  readonly statusIntervalMs?: number;
  /** Also called for every notification (the demo prints them). */
  readonly onNotification?: (notification: Notification) => void;
}

/**
 * Routes each alert state change to the destinations its policy names (looked up in the
 * policy's tenant), keeps one child per AlertDestination, replaced when it changes, and
 * keeps each destination's `status` (notifications sent, last error) current in etcd.
 */
export class ExporterStage {
  /** `<tenant>/<name>` → the spec hash of the child running it. */
  private readonly running = new Map<string, string>();
  private readonly rejected = new Map<string, number>();
  private readonly missingLogged = new Set<string>();
  /** `status.totalNotificationsSent` as first found, per destination; this run adds to it. */
  private readonly storedSent = new Map<string, number>();
  /** The counters version last written, per destination. */
  private readonly written = new Map<string, number>();
  private statusTimer: Timer | undefined;
  private closed = false;

  constructor(private readonly o: ExporterStageOptions) {}

  /**
   * Start-up: runs a child per destination, then hands each the notifications the outbox
   * says it never got (a crash or a stop came first). Until this is done nothing else is
   * routed, so what was pending goes out before what is new.
   */
  async sync(items: readonly KeyValue[]): Promise<void> {
    for (const kv of items) this.put(kv);
    const pending = await this.readOutbox();
    for (const { destination, notification } of pending) {
      this.route(destination, notification, false);
    }
    if (pending.length > 0) {
      this.o.log.info({ count: pending.length }, 'sending notifications left from before');
    }
    this.armStatus();
  }

  destinationEvents(events: readonly WatchEvent[]): void {
    for (const event of events) {
      if (event.type === 'put') this.put(event.kv);
      else this.remove(event.key);
    }
  }

  notify(notification: Notification): void {
    this.o.onNotification?.(notification);
    for (const destination of notification.destinations) {
      this.route(`${notification.policy.tenant}/${destination}`, notification, true);
    }
  }

  /**
   * What the outbox holds. A start-up with many objects keeps etcd and this process busy, so a
   * read may time out: it is tried a few more times before alertmgr goes on without it (the
   * records stay, for the next start) rather than failing the whole pipeline over it.
   */
  private async readOutbox(): Promise<Array<{ destination: string; notification: Notification }>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.o.outbox.pending();
      } catch (err) {
        const retryable = err instanceof AlertmgrError && err.retryable;
        if (!retryable || attempt >= 5 || this.closed) {
          this.o.log.warn(
            { [F.err]: String(err), [F.attempt]: attempt },
            'could not read the outbox; what it holds is sent at the next start',
          );
          return [];
        }
        await new Promise<void>((resolve) => this.o.clock.setTimer(500 * 2 ** attempt, resolve));
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.statusTimer) this.o.clock.clearTimer(this.statusTimer);
  }

  private route(name: string, notification: Notification, live: boolean): void {
    if (this.running.has(name)) {
      this.o.children.send(name, notification);
      return;
    }
    this.o.outbox.delivered(name, notification);
    this.o.metrics.notifications.inc({ destination: name, result: 'dropped' });
    if (live && !this.missingLogged.has(name)) {
      this.missingLogged.add(name);
      this.o.log.warn(
        { [F.destination]: name, [F.policy]: notification.policy.id },
        'policy names a destination that does not exist; its notifications are dropped',
      );
    }
  }

  private armStatus(): void {
    if (this.closed) return;
    this.statusTimer = this.o.clock.setTimer(this.o.statusIntervalMs ?? 1_000, () =>
      this.o.schedule(() => this.writeStatus()),
    );
  }

  /** Writes the status of every destination whose counters moved since the last write. */
  private async writeStatus(): Promise<void> {
    for (const [name, { counters }] of this.o.children.destinations()) {
      if (this.written.get(name) === counters.version) continue;
      const [tenant = '', destination = ''] = name.split('/');
      const key = formatKey(this.o.prefix, { kind: DESTINATION_KIND, tenant, name: destination });
      const status = {
        totalNotificationsSent: (this.storedSent.get(name) ?? 0) + counters.sent,
        lastError: counters.lastError,
      };
      const version = counters.version;
      try {
        if (await mergeStatus(this.o.store, key, status)) this.written.set(name, version);
      } catch (err) {
        this.o.log.warn({ [F.destination]: name, [F.err]: String(err) }, 'status write failed');
      }
    }
    this.armStatus();
  }

  private put(kv: KeyValue): void {
    let compiled: CompiledDestination;
    try {
      const { ref, object } = decodeObject(this.o.prefix, kv.key, kv.value);
      compiled = compileDestination(ref, object);
    } catch (err) {
      if (this.rejected.get(kv.key) !== kv.modRevision) {
        this.rejected.set(kv.key, kv.modRevision);
        this.o.log.warn({ [F.destination]: kv.key, [F.err]: String(err) }, 'invalid destination');
      }
      return;
    }
    this.rejected.delete(kv.key);
    const name = `${compiled.ref.tenant}/${compiled.ref.name}`;
    const current = this.running.get(name);
    // alertmgr's own status writes come back as updates; the sending part did not change.
    if (current === compiled.specHash) return;
    if (!this.storedSent.has(name))
      this.storedSent.set(name, storedCount(kv, 'totalNotificationsSent'));
    // Spawning over a running child replaces it; the new one takes over its queue.
    this.o.children.spawn(name, compiled);
    this.running.set(name, compiled.specHash);
    this.missingLogged.delete(name);
    this.o.log.info(
      { [F.destination]: name },
      current ? 'destination updated' : 'destination loaded',
    );
  }

  private remove(key: string): void {
    const parts = key.split('/');
    const name = `${parts[parts.length - 2]}/${parts[parts.length - 1]}`;
    this.rejected.delete(key);
    this.storedSent.delete(name);
    this.written.delete(name);
    if (!this.running.has(name)) return;
    this.o.children.stop(name);
    this.running.delete(name);
    this.o.log.info({ [F.destination]: name }, 'destination deleted');
  }
}
