import { createHash } from 'node:crypto';

/**
 * A stable hash of a JSON-like value: object keys are sorted first, so two specs that differ
 * only in key order or formatting hash the same. Callers hash the normalised, compiled form
 * of a spec, so a change that does not change behaviour (a default spelled out, `5` written
 * as "5") is not mistaken for a real change.
 */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys in sorted order; undefined fields are left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.map((entry) => (entry === undefined ? 'null' : canonicalJson(entry)));
    return `[${items.join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const fields = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${fields.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
