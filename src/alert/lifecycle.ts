import { isoTime } from '../clock.js';
import type { AlertEvent } from '../exporter/types.js';
import { ALERT_KIND, type Alert, type MatchedRequirement, type ObjectRef } from '../model/index.js';
import type { Severity } from '../model/severity.js';

/**
 * What the alert stage wants to happen to one alert. Intents are applied to the alert as it
 * is in etcd at write time, not as it was when the intent was formed: when a user changes
 * the alert in between (acknowledges, resolves, deletes it), the compare-and-swap refuses
 * the write and the same intents are applied again to the user's version, so a user's change
 * is never overwritten and the daemon's intent still takes effect where it makes sense.
 */
export type Intent =
  | {
      readonly type: 'open';
      readonly name: string;
      readonly tenant: string;
      readonly policyId: string;
      readonly severity: Severity;
      readonly message: string;
      readonly object: ObjectRef;
      readonly matched: MatchedRequirement[];
      readonly at: number;
    }
  /** Clear: the condition has been false for clearDuration. */
  | { readonly type: 'resolve'; readonly at: number }
  /** The policy's severity or message changed. */
  | { readonly type: 'refresh'; readonly severity: Severity; readonly message: string }
  /** The object or the policy is gone. */
  | { readonly type: 'delete' }
  /** Garbage collection: delete only if still resolved since before `resolvedBefore`. */
  | { readonly type: 'collect'; readonly resolvedBefore: number };

export interface Step {
  readonly alert: Alert | undefined;
  /** The state change this intent made, if it made one. */
  readonly event?: AlertEvent;
}

export const SYSTEM_USER = 'System';

/** Applies one intent; returns the same alert object when nothing changes. */
export function applyIntent(alert: Alert | undefined, intent: Intent): Step {
  switch (intent.type) {
    case 'open':
      return open(alert, intent);
    case 'resolve':
      return resolve(alert, intent.at);
    case 'refresh':
      return refresh(alert, intent.severity, intent.message);
    case 'delete':
      return alert ? { alert: undefined, event: 'deleted' } : { alert };
    case 'collect':
      return collectable(alert, intent.resolvedBefore)
        ? { alert: undefined, event: 'deleted' }
        : { alert };
  }
}

/** Applies intents in order, recording each state change with the alert right after it. */
export function applyIntents(
  alert: Alert | undefined,
  intents: readonly Intent[],
): { alert: Alert | undefined; steps: Array<{ event: AlertEvent; alert: Alert }> } {
  const steps: Array<{ event: AlertEvent; alert: Alert }> = [];
  let current = alert;
  for (const intent of intents) {
    const before = current;
    const step = applyIntent(current, intent);
    current = step.alert;
    // A deleted alert is reported with its last content, so receivers know what went away.
    const shown = current ?? before;
    if (step.event && shown) steps.push({ event: step.event, alert: shown });
  }
  return { alert: current, steps };
}

export function isActive(alert: Alert | undefined): boolean {
  return alert !== undefined && alert.spec.state !== 'resolved';
}

function open(alert: Alert | undefined, intent: Extract<Intent, { type: 'open' }>): Step {
  const time = isoTime(intent.at);
  if (!alert) {
    return {
      event: 'open',
      alert: {
        kind: ALERT_KIND,
        meta: { name: intent.name, tenant: intent.tenant, creationTime: time, modTime: time },
        spec: { state: 'open' },
        status: {
          severity: intent.severity,
          message: intent.message,
          objectRef: { ...intent.object },
          reason: { policyId: intent.policyId, matchedRequirements: intent.matched },
          totalHits: 1,
        },
      },
    };
  }
  // Still open or acknowledged: matching again changes nothing and writes nothing.
  if (alert.spec.state !== 'resolved') return { alert };

  const { resolved: _resolved, acknowledged: _acknowledged, ...status } = alert.status;
  return {
    event: 'reopen',
    alert: {
      ...alert,
      meta: { ...alert.meta, modTime: time },
      spec: { state: 'open' },
      status: {
        ...status,
        severity: intent.severity,
        message: intent.message,
        reason: { policyId: intent.policyId, matchedRequirements: intent.matched },
        totalHits: alert.status.totalHits + 1,
      },
    },
  };
}

function resolve(alert: Alert | undefined, at: number): Step {
  if (!alert || alert.spec.state === 'resolved') return { alert };
  const time = isoTime(at);
  // An acknowledgement stays on record: the alert resolves, and who acknowledged it remains.
  return {
    event: 'resolved',
    alert: {
      ...alert,
      meta: { ...alert.meta, modTime: time },
      spec: { state: 'resolved' },
      status: { ...alert.status, resolved: { user: SYSTEM_USER, time } },
    },
  };
}

function refresh(alert: Alert | undefined, severity: Severity, message: string): Step {
  if (!alert || (alert.status.severity === severity && alert.status.message === message)) {
    return { alert };
  }
  return { alert: { ...alert, status: { ...alert.status, severity, message } } };
}

function collectable(alert: Alert | undefined, resolvedBefore: number): boolean {
  if (!alert || alert.spec.state !== 'resolved') return false;
  const time = Date.parse(alert.status.resolved?.time ?? alert.meta.modTime ?? '');
  // An alert resolved at an unreadable time is collected: nothing else would ever remove it.
  return Number.isNaN(time) || time < resolvedBefore;
}
