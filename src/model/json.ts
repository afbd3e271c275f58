import { ValidationError } from '../errors.js';

/**
 * Small readers for decoded JSON. Each one checks a value's type and throws a ValidationError
 * that names the field, so every decoder reports problems the same way.
 *
 * `null` counts as absent for optional fields, as it does for Kubernetes-style objects: YAML
 * writes an empty field as null and users do not mean it as a value.
 */

export type JsonObject = Record<string, unknown>;

/** A plain JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a value's JSON type for messages: "a string", "an array", "null". */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const QUOTE_LIMIT = 80;

/**
 * Quotes user text for a message. JSON escaping keeps the message on one line whatever the
 * text holds, and long text is cut so a huge value cannot flood a log line.
 */
export function quote(text: string): string {
  const cut = text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
  return JSON.stringify(cut);
}

const PLAIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Joins a field path the way requirement keys are written, so a message points at a field
 * with the same syntax a user would use: `meta.labels.rack`, `meta.labels["app.io/name"]`.
 */
export function fieldPath(parent: string, name: string): string {
  if (!PLAIN_NAME.test(name)) return `${parent}[${JSON.stringify(name)}]`;
  return parent ? `${parent}.${name}` : name;
}

export function isAbsent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export function expectObject(value: unknown, field: string): JsonObject {
  if (isAbsent(value)) throw new ValidationError(field, 'required');
  if (!isJsonObject(value)) {
    throw new ValidationError(field, `expected an object, got ${describeType(value)}`);
  }
  return value;
}

export function optionalObject(value: unknown, field: string): JsonObject | undefined {
  return isAbsent(value) ? undefined : expectObject(value, field);
}

export function expectArray(value: unknown, field: string): unknown[] {
  if (isAbsent(value)) throw new ValidationError(field, 'required');
  if (!Array.isArray(value)) {
    throw new ValidationError(field, `expected an array, got ${describeType(value)}`);
  }
  return value;
}

/** A required string; `nonEmpty` also rejects "". */
export function expectString(value: unknown, field: string, nonEmpty = true): string {
  if (isAbsent(value)) throw new ValidationError(field, 'required');
  if (typeof value !== 'string') {
    throw new ValidationError(field, `expected a string, got ${describeType(value)}`);
  }
  if (nonEmpty && value === '') throw new ValidationError(field, 'must not be empty');
  return value;
}

export function optionalString(value: unknown, field: string, nonEmpty = true): string | undefined {
  return isAbsent(value) ? undefined : expectString(value, field, nonEmpty);
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'boolean') {
    throw new ValidationError(field, `expected true or false, got ${describeType(value)}`);
  }
  return value;
}

/** An optional map of string to string, such as labels or HTTP headers. */
export function optionalStringMap(
  value: unknown,
  field: string,
): Record<string, string> | undefined {
  const object = optionalObject(value, field);
  if (object === undefined) return undefined;

  for (const [name, entry] of Object.entries(object)) {
    if (typeof entry !== 'string') {
      throw new ValidationError(
        fieldPath(field, name),
        `expected a string, got ${describeType(entry)}`,
      );
    }
  }
  // A copy, made with fromEntries so that even a name like "__proto__" stays plain data.
  return Object.fromEntries(Object.entries(object)) as Record<string, string>;
}
