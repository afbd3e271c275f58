import type { Clock, Timer } from '../clock.js';
import { F, type Logger } from '../log.js';
import { normalizePrefix } from '../model/index.js';
import { MAX_TXN_OPS, type Store, type WriteOp } from '../store/index.js';
import type { Notification } from './types.js';

/** How long deliveries are gathered before their records are deleted in one transaction. */
const DELETE_DELAY_MS = 200;

export interface PendingDelivery {
  /** `<tenant>/<name>` of the AlertDestination. */
  readonly destination: string;
  readonly notification: Notification;
}

/**
 * The durable record of what each destination still has to receive, kept in etcd under
 * `<statePrefix>/outbox/<tenant>/<destination>/<notification id>`. A record is written in
 * the same transaction as the alert change it announces, so it exists exactly when the
 * change does, and is deleted once every export of the destination has taken it (or given
 * up on it). After a crash, whatever is still recorded is sent again: at least once, and
 * nothing that was already confirmed, apart from deliveries confirmed in the last moments
 * whose records were not deleted yet.
 */
export class Outbox {
  private readonly root: string;
  /** Keys of records whose notification was delivered, waiting to be deleted. */
  private readonly settled = new Set<string>();
  private timer: Timer | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly o: { store: Store; statePrefix: string; clock: Clock; log: Logger },
  ) {
    this.root = `${normalizePrefix(o.statePrefix)}/outbox/`;
  }

  /** The writes that record `notification` for each destination it goes to. */
  records(notification: Notification): WriteOp[] {
    const value = JSON.stringify(notification);
    return notification.destinations.map((name) => ({
      type: 'put',
      key: this.key(`${notification.policy.tenant}/${name}`, notification.id),
      value,
    }));
  }

  /** Everything still to deliver, oldest first, as found in etcd. */
  async pending(): Promise<PendingDelivery[]> {
    const { items } = await this.o.store.list(this.root);
    const found: Array<PendingDelivery & { revision: number }> = [];
    for (const kv of items) {
      const parts = kv.key.slice(this.root.length).split('/');
      if (parts.length !== 3) continue;
      try {
        const notification = JSON.parse(Buffer.from(kv.value).toString()) as Notification;
        found.push({
          destination: `${parts[0]}/${parts[1]}`,
          notification,
          revision: kv.modRevision,
        });
      } catch {
        // Nothing can be sent from a record that does not parse; it only takes space.
        this.o.log.warn({ [F.key]: kv.key }, 'dropping an unreadable outbox record');
        this.settled.add(kv.key);
        this.arm();
      }
    }
    return found.sort((a, b) => a.revision - b.revision);
  }

  /** The destination has the notification (or gave up on it): its record can go. */
  delivered(destination: string, notification: Notification): void {
    this.done(destination, notification.id);
  }

  /** True when no record deletion is waiting or running (for a graceful stop). */
  get idle(): boolean {
    return this.settled.size === 0 && !this.flushing;
  }

  /** Deletes the records of everything delivered so far. */
  flush(): Promise<void> {
    if (this.flushing || this.settled.size === 0) return this.flushing ?? Promise.resolve();
    const keys = [...this.settled];
    this.settled.clear();
    this.flushing = this.deleteAll(keys).finally(() => {
      this.flushing = undefined;
      if (this.settled.size > 0) this.arm();
    });
    return this.flushing;
  }

  close(): void {
    this.closed = true;
    if (this.timer) this.o.clock.clearTimer(this.timer);
  }

  private done(destination: string, id: string): void {
    this.settled.add(this.key(destination, id));
    this.arm();
  }

  private arm(): void {
    if (this.timer || this.closed) return;
    this.timer = this.o.clock.setTimer(DELETE_DELAY_MS, () => {
      this.timer = undefined;
      void this.flush();
    });
  }

  private async deleteAll(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += MAX_TXN_OPS) {
      const chunk = keys.slice(i, i + MAX_TXN_OPS);
      try {
        await this.o.store.batch(chunk.map((key) => ({ op: { type: 'delete', key } })));
      } catch (err) {
        // Kept for the next flush; until then a restart would deliver these once more.
        for (const key of chunk) this.settled.add(key);
        this.o.log.warn({ [F.err]: String(err), count: chunk.length }, 'outbox cleanup failed');
      }
    }
  }

  private key(destination: string, id: string): string {
    return `${this.root}${destination}/${encodeURIComponent(id)}`;
  }
}
