import { createHash } from 'node:crypto';

import type { MatchedRequirement } from '../../model/index.js';
import type { Notification } from '../types.js';

/** Prometheus label sets: names to values, all strings. */
export type Labels = Record<string, string>;

/** Alertmanager's status words: acknowledging an alert does not end it, so it still fires. */
export type AlertStatusWord = 'firing' | 'resolved';

/** One alert in the Alertmanager webhook shape. */
export interface WebhookAlert {
  status: AlertStatusWord;
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/** The body Prometheus Alertmanager POSTs to webhook receivers, version 4. */
export interface WebhookMessage {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: AlertStatusWord;
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
  alerts: WebhookAlert[];
}

/** What Alertmanager writes for "no end time yet" (Go's zero time). */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Alertmanager names the receiver from its config; alertmgr has one sender, itself. */
const RECEIVER = 'alertmgr';

export function statusWord(notification: Notification): AlertStatusWord {
  return notification.state === 'resolved' || notification.state === 'deleted'
    ? 'resolved'
    : 'firing';
}

/**
 * The labels that identify an alert for as long as it exists. The state is left out on
 * purpose: receivers (and Alertmanager itself) pair a firing alert with its resolution by
 * label set, so the set must not change when the alert does.
 */
export function identityLabels(notification: Notification): Labels {
  const { alert, policy } = notification;
  const object = alert.status.objectRef;
  return {
    alertname: policy.name,
    severity: alert.status.severity,
    tenant: alert.meta.tenant,
    kind: object.kind,
    object: object.name,
    alert: alert.meta.name,
  };
}

/** Human-readable text about the alert; annotations never take part in identity. */
export function alertAnnotations(notification: Notification): Labels {
  const { alert, policy } = notification;
  const object = alert.status.objectRef;
  const message = alert.status.message;
  return {
    summary: message || `${policy.name} matches ${object.kind} ${object.tenant}/${object.name}`,
    message,
    policy: policy.id,
    requirements: requirementsText(alert.status.reason.matchedRequirements),
  };
}

/** One line per requirement: `status.health equals [down] (observed down)`. */
export function requirementsText(requirements: readonly MatchedRequirement[]): string {
  return requirements
    .map((r) => `${r.key} ${r.operator} [${r.values.join(', ')}] (observed ${r.observedValue})`)
    .join('\n');
}

/**
 * When the alert started, as far as one notification tells: its first opening. A sink that
 * keeps no state cannot know when a reopened alert reopened once that notification is past,
 * and a start time that moves between notifications of one alert would confuse receivers.
 */
export function startsAt(notification: Notification): string {
  return notification.alert.meta.creationTime ?? notification.time;
}

/**
 * A stable id of a label set, like Alertmanager's `fingerprint` (16 hex digits; the hash
 * differs from Alertmanager's, which receivers only compare for equality).
 */
export function fingerprint(labels: Labels): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(labels).sort()) hash.update(`${name}\0${labels[name]}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** Builds the version 4 webhook body for one notification: a group of exactly one alert. */
export function webhookMessage(notification: Notification): WebhookMessage {
  const status = statusWord(notification);
  const identity = identityLabels(notification);
  const labels = { ...identity, state: notification.state };
  const annotations = alertAnnotations(notification);
  const groupLabels = {
    alertname: identity.alertname!,
    tenant: identity.tenant!,
    alert: identity.alert!,
  };

  return {
    version: '4',
    groupKey: `{}:${labelSetText(groupLabels)}`,
    truncatedAlerts: 0,
    status,
    receiver: RECEIVER,
    groupLabels,
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: '',
    alerts: [
      {
        status,
        labels,
        annotations,
        startsAt: startsAt(notification),
        endsAt: status === 'resolved' ? notification.time : ZERO_TIME,
        generatorURL: '',
        fingerprint: fingerprint(identity),
      },
    ],
  };
}

/** `{a="x", b="y"}`, names sorted, as Alertmanager writes label sets into group keys. */
function labelSetText(labels: Labels): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((name) => `${name}=${JSON.stringify(labels[name])}`);
  return `{${pairs.join(', ')}}`;
}
