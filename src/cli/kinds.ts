import { ValidationError } from '../errors.js';
import { ALERT_KIND, DESTINATION_KIND, POLICY_KIND, type ObjectRef } from '../model/index.js';

/**
 * alertmgr's own kinds may be written in any case, singular, plural or short, as kubectl
 * users expect. A managed object kind is an etcd key segment and is taken exactly as written
 * (`Node`, `DistributedServiceCard`): alertmgr cannot know the plural of a kind it does not own.
 */
const ALIASES: Readonly<Record<string, string>> = {
  alert: ALERT_KIND,
  alerts: ALERT_KIND,
  alertpolicy: POLICY_KIND,
  alertpolicies: POLICY_KIND,
  policy: POLICY_KIND,
  policies: POLICY_KIND,
  alertdestination: DESTINATION_KIND,
  alertdestinations: DESTINATION_KIND,
  destination: DESTINATION_KIND,
  destinations: DESTINATION_KIND,
};

export function resolveKind(text: string): string {
  const alias = ALIASES[text.toLowerCase()];
  if (alias !== undefined) return alias;
  return checkSegment(text, 'KIND');
}

/** A tenant, name or kind given on the command line: one key segment. */
export function checkSegment(text: string, what: string): string {
  if (text === '') throw new ValidationError(what, 'must not be empty');
  if (text.includes('/')) {
    throw new ValidationError(what, `${JSON.stringify(text)} must not contain "/"`);
  }
  return text;
}

/** How commands name an object in their output: `alertpolicy/default/node-down`. */
export function displayName(ref: ObjectRef): string {
  return `${ref.kind.toLowerCase()}/${ref.tenant}/${ref.name}`;
}
