import { ValidationError } from '../errors.js';
import { quote } from './json.js';

/**
 * Every object is one etcd key, `<prefix>/<Kind>/<tenant>/<name>`, and the key is its
 * identity. These helpers are the only place that builds or splits such keys.
 */

export const ALERT_KIND = 'Alert';
export const POLICY_KIND = 'AlertPolicy';
export const DESTINATION_KIND = 'AlertDestination';

/** Identifies one object: the three key segments under the prefix. */
export interface ObjectRef {
  kind: string;
  tenant: string;
  name: string;
}

/** Any kind other than alertmgr's own three is a managed object. */
export function isManagedKind(kind: string): boolean {
  return kind !== ALERT_KIND && kind !== POLICY_KIND && kind !== DESTINATION_KIND;
}

/** Drops trailing slashes so `/objects` and `/objects/` name the same place. */
export function normalizePrefix(prefix: string): string {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === '/') end--;
  return prefix.slice(0, end);
}

/** The key prefix that holds every object of one kind, ending in `/`. */
export function kindPrefix(prefix: string, kind: string): string {
  checkSegment(kind, 'kind');
  return `${normalizePrefix(prefix)}/${kind}/`;
}

/** Builds `<prefix>/<Kind>/<tenant>/<name>`; a segment that is empty or holds `/` is refused. */
export function formatKey(prefix: string, ref: ObjectRef): string {
  checkSegment(ref.kind, 'kind');
  checkSegment(ref.tenant, 'meta.tenant');
  checkSegment(ref.name, 'meta.name');
  return `${normalizePrefix(prefix)}/${ref.kind}/${ref.tenant}/${ref.name}`;
}

const SEGMENTS = ['kind', 'tenant', 'name'] as const;

/** Splits a key into its kind, tenant and name; throws when it is not exactly that shape. */
export function parseKey(prefix: string, key: string): ObjectRef {
  const root = `${normalizePrefix(prefix)}/`;
  if (!key.startsWith(root)) {
    throw new ValidationError('key', `${quote(key)} is not under the prefix ${quote(root)}`);
  }

  const parts = key.slice(root.length).split('/');
  if (parts.length !== SEGMENTS.length) {
    throw new ValidationError(
      'key',
      `${quote(key)} does not have the form ${root}<Kind>/<tenant>/<name>`,
    );
  }
  parts.forEach((part, index) => {
    if (part === '')
      throw new ValidationError('key', `${quote(key)} has an empty ${SEGMENTS[index]}`);
  });

  const [kind = '', tenant = '', name = ''] = parts;
  return { kind, tenant, name };
}

function checkSegment(segment: string, field: string): void {
  if (segment === '') throw new ValidationError(field, 'must not be empty');
  if (segment.includes('/')) {
    throw new ValidationError(field, `${quote(segment)} must not contain "/"`);
  }
}
