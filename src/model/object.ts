import { ValidationError } from '../errors.js';
import {
  describeType,
  expectObject,
  isAbsent,
  isJsonObject,
  optionalString,
  optionalStringMap,
  quote,
  type JsonObject,
} from './json.js';
import { parseKey, type ObjectRef } from './keys.js';

/** The `meta` block every object carries; unknown fields are kept as they are. */
export interface ObjectMeta {
  name: string;
  tenant: string;
  uuid?: string;
  labels?: Record<string, string>;
  creationTime?: string;
  modTime?: string;
  [field: string]: unknown;
}

/** Any object as stored under the prefix, after `decodeObject` has checked its envelope. */
export interface StoredObject {
  kind: string;
  meta: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

export interface DecodedObject {
  ref: ObjectRef;
  object: StoredObject;
}

// `fatal` makes malformed UTF-8 an error instead of silently turning into U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes one etcd entry. The key is the identity: `kind`, `meta.tenant` and `meta.name` in
 * the JSON must agree with it when present and are filled in from it when absent, so code
 * downstream can always read them from the object.
 */
export function decodeObject(
  prefix: string,
  key: string,
  value: Uint8Array | string,
): DecodedObject {
  const ref = parseKey(prefix, key);
  const document = parseJson(value);

  const meta = isAbsent(document.meta) ? {} : expectObject(document.meta, 'meta');
  agree(document.kind, ref.kind, 'kind');
  agree(meta.tenant, ref.tenant, 'meta.tenant');
  agree(meta.name, ref.name, 'meta.name');

  const object: StoredObject = { ...document, kind: ref.kind, meta: normalizeMeta(meta, ref) };
  return { ref, object };
}

function parseJson(value: Uint8Array | string): JsonObject {
  let text: string;
  try {
    text = typeof value === 'string' ? value : utf8.decode(value);
  } catch {
    throw new ValidationError('value', 'not valid UTF-8');
  }

  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // The parser quotes part of the input, which may hold line breaks; keep one line.
    const reason = error instanceof Error ? error.message.replace(/\s+/g, ' ') : String(error);
    throw new ValidationError('value', `not valid JSON: ${reason}`);
  }

  if (!isJsonObject(document)) {
    throw new ValidationError('value', `expected a JSON object, got ${describeType(document)}`);
  }
  return document;
}

function agree(found: unknown, fromKey: string, field: string): void {
  if (isAbsent(found)) return;
  if (typeof found !== 'string') {
    throw new ValidationError(field, `expected a string, got ${describeType(found)}`);
  }

  const segment = field.slice(field.lastIndexOf('.') + 1);
  if (found !== fromKey) {
    throw new ValidationError(
      field,
      `${quote(found)} disagrees with the key's ${segment} ${quote(fromKey)}`,
    );
  }
}

/**
 * Gives the typed meta fields the types `ObjectMeta` promises; a null one is dropped, as if
 * absent. Fields alertmgr does not know are kept untouched.
 */
function normalizeMeta(meta: JsonObject, ref: ObjectRef): ObjectMeta {
  const typed = {
    uuid: optionalString(meta.uuid, 'meta.uuid', false),
    labels: optionalStringMap(meta.labels, 'meta.labels'),
    creationTime: optionalString(meta.creationTime, 'meta.creationTime', false),
    modTime: optionalString(meta.modTime, 'meta.modTime', false),
  };

  const result: ObjectMeta = { ...meta, name: ref.name, tenant: ref.tenant };
  for (const [field, value] of Object.entries(typed)) {
    if (value === undefined) delete result[field];
    else result[field] = value;
  }
  return result;
}
