import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Alert } from '../model/index.js';

/** What happened to an alert; every one of these is sent to the destinations of its policy. */
export type AlertEvent = 'open' | 'reopen' | 'acknowledged' | 'resolved' | 'deleted';

/**
 * One alert state change on its way to destinations. `id` is stable across restarts and
 * retries (alert name, hit count, new state), so a receiver can drop duplicates.
 */
export interface Notification {
  readonly id: string;
  readonly event: AlertEvent;
  /** The alert's state after the change; `deleted` once the alert is gone. */
  readonly state: 'open' | 'acknowledged' | 'resolved' | 'deleted';
  /** The alert as written (for `deleted`, as it was last seen). */
  readonly alert: Alert;
  readonly policy: { readonly id: string; readonly name: string; readonly tenant: string };
  /** Names of the AlertDestinations (in the policy's tenant) this change goes to. */
  readonly destinations: readonly string[];
  /** RFC 3339 time of the change. */
  readonly time: string;
}

export function notificationId(alertName: string, totalHits: number, state: string): string {
  return `${alertName}:${totalHits}:${state}`;
}

/**
 * The interface every destination kind implements. `send` resolves once the receiver has
 * taken the notification and rejects when it has not; the destination actor around it
 * owns retries, timeouts and queueing, so a sink stays a thin adapter to its protocol.
 */
export interface Sink {
  send(notification: Notification): Promise<void>;
  close(): Promise<void>;
}

export interface SinkContext {
  readonly log: Logger;
  readonly clock: Clock;
  /** `<tenant>/<name>` of the AlertDestination the sink delivers for. */
  readonly destination?: string;
}

/** Builds a sink from one export block of an AlertDestination's spec (already validated). */
export type SinkFactory<Config = unknown> = (config: Config, context: SinkContext) => Sink;
