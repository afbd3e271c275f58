import { isoTime, type Clock } from '../clock.js';
import { notificationId, type Notification } from '../exporter/types.js';
import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Alert } from '../model/index.js';
import type { Store, WriteOp } from '../store/index.js';
import type { Entry } from './book.js';
import type { PolicyInfo } from './types.js';
import type { Steps } from './writer.js';

export interface AnnouncerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly schedule: (work: () => void) => void;
  readonly notify: (notification: Notification) => void;
  readonly records: (notification: Notification) => WriteOp[];
  /** The policy in force with this id, if any. */
  readonly policy: (id: string) => PolicyInfo | undefined;
}

/**
 * Turns alert state changes into notifications and hands them on: counted, logged at info,
 * and sent to the exporter. Changes alertmgr writes are recorded in the outbox by the writer,
 * in the same transaction; changes users make are recorded here.
 */
export class Announcer {
  constructor(private readonly o: AnnouncerOptions) {}

  describe(entry: Entry, steps: Steps): Notification[] {
    return steps.map((step) => this.notification(entry, step.event, step.alert));
  }

  announce(entry: Entry, n: Notification): void {
    this.o.metrics.alertTransitions.inc({ event: n.event });
    this.o.log.info(
      {
        [F.alert]: entry.name,
        [F.policy]: entry.policyId,
        [F.object]: `${entry.objectRef.kind}/${entry.objectRef.tenant}/${entry.objectRef.name}`,
        event: n.event,
        severity: n.alert.status.severity,
      },
      `alert ${n.event}`,
    );
    this.o.notify(n);
  }

  /**
   * A change a user made (acknowledged, resolved or deleted an alert): its notification is
   * recorded in the outbox first, in a write of its own, then sent, so it too survives a
   * crash. Should the record fail to write, the notification is still sent, once.
   */
  userChange(entry: Entry, event: Notification['event'], alert: Alert): void {
    const n = this.notification(entry, event, alert);
    const records = this.o.records(n);
    if (records.length === 0) {
      this.announce(entry, n);
      return;
    }
    this.o.store.batch(records.map((op) => ({ op }))).then(
      () => this.o.schedule(() => this.announce(entry, n)),
      (err: unknown) =>
        this.o.schedule(() => {
          this.o.log.warn({ [F.alert]: entry.name, [F.err]: String(err) }, 'outbox write failed');
          this.announce(entry, n);
        }),
    );
  }

  private notification(entry: Entry, event: Notification['event'], alert: Alert): Notification {
    const policy = this.o.policy(entry.policyId);
    const state = event === 'deleted' ? 'deleted' : alert.spec.state;
    return {
      id: notificationId(entry.name, alert.status.totalHits, state),
      event,
      state,
      alert,
      policy: { id: entry.policyId, name: policy?.name ?? '', tenant: entry.tenant },
      destinations: policy?.destinations ?? [],
      time: isoTime(this.o.clock.now()),
    };
  }
}
