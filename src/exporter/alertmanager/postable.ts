import type { Notification } from '../types.js';
import { alertAnnotations, identityLabels, startsAt, type Labels } from '../webhook/payload.js';

/** One element of the JSON array Alertmanager's `POST /api/v2/alerts` takes. */
export interface PostableAlert {
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

/**
 * The alert as Alertmanager should see it after `notification`, ending at `endsAt`.
 *
 * Labels are the alert's identity in Alertmanager (its fingerprint), so they hold only what
 * never changes while the alert lives; the state goes into the annotations, where an
 * acknowledgement shows without turning into a second alert.
 */
export function postableAlert(notification: Notification, endsAt: string): PostableAlert {
  const alert = {
    labels: identityLabels(notification),
    annotations: { ...alertAnnotations(notification), state: notification.state },
    startsAt: startsAt(notification),
  };
  return withEnd(alert, endsAt);
}

/** The same alert ending at `endsAt`: for re-posting it, or for ending it. */
export function withEnd(alert: Omit<PostableAlert, 'endsAt'>, endsAt: string): PostableAlert {
  // Alertmanager refuses an alert that ends before it starts (400, never retried); a clock
  // that stepped back between the opening and the resolution must not cause that.
  const end = Date.parse(endsAt) < Date.parse(alert.startsAt) ? alert.startsAt : endsAt;
  return { ...alert, endsAt: end };
}

export function sameLabels(a: Labels, b: Labels): boolean {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((name) => a[name] === b[name]);
}
