import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

import { parseAllDocuments } from 'yaml';

import { DEFAULT_CONFIG } from '../daemon/config.js';
import { ValidationError } from '../errors.js';
import {
  ALERT_KIND,
  compileDestination,
  type CompiledDestination,
  compilePolicy,
  decodeObject,
  describeType,
  DESTINATION_KIND,
  formatKey,
  isJsonObject,
  POLICY_KIND,
  type ObjectRef,
  type StoredObject,
} from '../model/index.js';
import { REDACTED } from './render.js';
import { ManifestError } from './errors.js';
import { oneLine, readAll, type Io } from './io.js';
import { displayName } from './kinds.js';

/** One object given to `apply`, validated, with where it came from for messages. */
export interface Manifest {
  readonly source: string;
  /** 1-based position of the document in its source. */
  readonly document: number;
  readonly ref: ObjectRef;
  /** The object as given, with `kind`, `meta.name` and `meta.tenant` filled in. */
  readonly object: StoredObject;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const STDIN = '-';
const DEFAULT_TENANT = 'default';

/**
 * Reads and validates every document of every source before anything is written, so one bad
 * document leaves etcd untouched. A source is a file, a directory (its .yaml, .yml and .json
 * files in name order, not descending into subdirectories) or `-` for standard input.
 */
export async function readManifests(
  paths: readonly string[],
  io: Io,
  prefix: string,
): Promise<Manifest[]> {
  const manifests: Manifest[] = [];
  const seen = new Map<string, Manifest>();

  for (const file of await expandPaths(paths)) {
    const source = file === STDIN ? '<stdin>' : file;
    const documents = await parseSource(file, source, io);
    documents.forEach((document, index) => {
      if (document === undefined) return;
      const manifest = validate(source, index + 1, document, prefix);
      const key = formatKey(prefix, manifest.ref);
      const first = seen.get(key);
      if (first) {
        throw new ManifestError(
          source,
          index + 1,
          '',
          `${displayName(manifest.ref)} is also given in ${first.source}: ` +
            `document ${first.document}`,
        );
      }
      seen.set(key, manifest);
      manifests.push(manifest);
    });
  }

  if (manifests.length === 0) throw new ValidationError('-f', 'no objects to apply');
  return manifests;
}

async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (path === STDIN) {
      files.push(STDIN);
      continue;
    }

    const info = await stat(path).catch((err: unknown) => {
      throw new ManifestError(path, 0, '', describeFsError(err));
    });
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }

    const entries = await readdir(path, { withFileTypes: true });
    const names = entries
      .filter(
        (entry) => entry.isFile() && MANIFEST_EXTENSIONS.has(extname(entry.name).toLowerCase()),
      )
      .map((entry) => entry.name)
      .sort();
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
}

/**
 * The documents of one source; an empty YAML document is undefined so that the positions of
 * the others stay the ones a user counts. A JSON source may hold one object, an array of them
 * or `{"items": [...]}`; each element counts as a document.
 */
async function parseSource(file: string, source: string, io: Io): Promise<unknown[]> {
  const text = file === STDIN ? await readAll(io.stdin) : await readSource(file);
  // Standard input has no file name to tell the format by; JSON starts with `{` or `[`.
  const json = file === STDIN ? /^\s*[[{]/.test(text) : extname(file).toLowerCase() === '.json';
  return json ? parseJson(source, text) : parseYaml(source, text);
}

async function readSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ManifestError(file, 0, '', describeFsError(err));
  }
}

function parseJson(source: string, text: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(source, 0, '', `invalid JSON: ${errorText(err)}`);
  }

  if (Array.isArray(value)) return value;
  if (isJsonObject(value) && value.kind === undefined && Array.isArray(value.items)) {
    return value.items;
  }
  return [value];
}

function parseYaml(source: string, text: string): unknown[] {
  const documents = parseAllDocuments(text);
  // A source with nothing but comments is an empty stream rather than a list of documents.
  if (!Array.isArray(documents)) return [];

  return documents.map((document, index) => {
    try {
      const error = document.errors[0];
      if (error) throw error;
      const value: unknown = document.toJS();
      return value === null ? undefined : value;
    } catch (err) {
      throw new ManifestError(source, index + 1, '', `invalid YAML: ${errorText(err)}`);
    }
  });
}

/** Checks one document as the daemon would read it back from etcd, and as its kind demands. */
function validate(source: string, document: number, value: unknown, prefix: string): Manifest {
  try {
    const { ref, object } = decodeDocument(value, prefix);
    checkKind(ref, object);
    return { source, document, ref, object };
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ManifestError(source, document, err.field, err.problem);
    }
    throw err;
  }
}

function decodeDocument(value: unknown, prefix: string) {
  if (!isJsonObject(value)) {
    throw new ValidationError('', `expected an object, got ${describeType(value)}`);
  }
  const kind = requiredString(value.kind, 'kind');
  if (!isJsonObject(value.meta)) {
    const found =
      value.meta === undefined ? 'required' : `expected an object, got ${describeType(value.meta)}`;
    throw new ValidationError('meta', found);
  }
  const name = requiredString(value.meta.name, 'meta.name');
  const tenant =
    value.meta.tenant === undefined || value.meta.tenant === null
      ? DEFAULT_TENANT
      : requiredString(value.meta.tenant, 'meta.tenant');

  const key = formatKey(prefix, { kind, tenant, name });
  let text: string;
  try {
    text = JSON.stringify({ ...value, meta: { ...value.meta, tenant } });
  } catch (err) {
    throw new ValidationError('', `cannot be written as JSON: ${errorText(err)}`);
  }
  // The same decoder the daemon uses, so apply accepts exactly what the daemon will read.
  return decodeObject(prefix, key, text);
}

function checkKind(ref: ObjectRef, object: StoredObject): void {
  switch (ref.kind) {
    case ALERT_KIND:
      throw new ValidationError(
        'kind',
        'Alert objects are written by alertmgr only; use "alertmgr ack" or "alertmgr resolve"',
      );
    case POLICY_KIND:
      // The create revision only names the policy id, which validation does not need.
      compilePolicy(ref, object, 1, { clearDurationMs: DEFAULT_CONFIG.clearDurationMs });
      return;
    case DESTINATION_KIND: {
      const compiled = compileDestination(ref, object);
      refusePlaceholders(compiled);
      return;
    }
  }
}

/**
 * `get` shows `[redacted]` in place of secrets. Applying such output back would overwrite the
 * real secret with the placeholder, silently breaking the destination, so it is refused.
 */
function refusePlaceholders(destination: CompiledDestination): void {
  const webhook = destination.webhookExport;
  for (const [name, value] of Object.entries(webhook?.headers ?? {})) {
    if (value === REDACTED) {
      throw new ValidationError(
        `spec.webhookExport.headers.${name}`,
        `holds ${REDACTED}, the placeholder "get" shows for secrets; write the real value`,
      );
    }
  }
  for (const kind of ['webhookExport', 'alertmanagerExport'] as const) {
    const url = destination[kind]?.url;
    if (url && decodeURIComponent(url).includes(`:${REDACTED}@`)) {
      throw new ValidationError(
        `spec.${kind}.url`,
        `holds ${REDACTED}, the placeholder "get" shows for passwords; write the real one`,
      );
    }
  }
}

function requiredString(value: unknown, field: string): string {
  if (value === undefined || value === null) throw new ValidationError(field, 'required');
  if (typeof value !== 'string') {
    throw new ValidationError(field, `expected a string, got ${describeType(value)}`);
  }
  if (value === '') throw new ValidationError(field, 'must not be empty');
  return value;
}

/** Why a file could not be read, in words, for a one-line message. */
export function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return `cannot read: ${errorText(err)}`;
}

/** The first line of an error's message: parsers append a multi-line excerpt of the input. */
function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return oneLine(message.split('\n', 1)[0] ?? '').replace(/:$/, '');
}
