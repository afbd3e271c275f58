import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Node } from 'yaml';

import { ValidationError } from '../errors.js';
import { describeFsError } from './manifests.js';
import type { Setting } from './options.js';

/**
 * The `run` settings file (`--config FILE`): a YAML mapping whose keys are the flag names
 * without their dashes, e.g.
 *
 *     etcd-endpoints: [https://10.0.0.5:2379, https://10.0.0.6:2379]
 *     clear-duration: 5s
 *
 * It is the lowest layer above the defaults: a flag, then its `ALERTMGR_*` twin, then the
 * file. Values are taken as text and validated by the same readers as flags, so a bad value
 * is reported the same way, naming the file and the key instead of the flag.
 */
export interface ConfigFile {
  /** As the user gave it, for messages. */
  readonly path: string;
  /** Relative paths in the file (certificates, the password file) are taken from here. */
  readonly dir: string;
  /** Flag name without dashes (`clear-duration`) → its value as flag text. */
  readonly values: ReadonlyMap<string, string>;
}

/** Keys whose value may be a YAML list; the flag takes the same entries separated by commas. */
const LIST_KEYS: ReadonlySet<string> = new Set(['etcd-endpoints']);

/** Keys that look like settings but must not be in a file, and what to do instead. */
const REFUSED: Readonly<Record<string, string>> = {
  config: 'a settings file cannot name another one',
  'etcd-password':
    'a password is not accepted here; put it in a file named by etcd-password-file, ' +
    'or in ALERTMGR_ETCD_PASSWORD',
};

/**
 * Reads and checks the file named by `setting`. `known` lists the keys it may hold (the flag
 * names of `run`); anything else, a value of the wrong shape, or YAML that does not parse is a
 * ValidationError naming the file, and the key when there is one.
 */
export async function loadConfigFile(
  setting: Setting,
  known: ReadonlySet<string>,
): Promise<ConfigFile> {
  const path = setting.value;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError(setting.source, `${JSON.stringify(path)}: ${describeFsError(err)}`);
  }

  const root = parseYaml(path, text);
  const values = new Map<string, string>();
  if (root !== null) {
    if (!isMap(root)) {
      throw new ValidationError(path, 'expected a mapping of settings, e.g. "clear-duration: 5s"');
    }
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      values.set(checkKey(path, key, known), valueText(path, key, pair.value as Node | null));
    }
  }
  return { path, dir: dirname(resolve(path)), values };
}

function parseYaml(path: string, text: string): Node | null {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const error = document.errors[0];
  if (error) {
    const { line } = lineCounter.linePos(error.pos[0]);
    // The parser's message may quote the offending text over several lines; keep the first.
    const message =
      error.code === 'MULTIPLE_DOCS'
        ? 'a second document starts here; the file holds one mapping'
        : (error.message.split('\n')[0] ?? error.code);
    throw new ValidationError(path, `invalid YAML at line ${line}: ${message}`);
  }
  return document.contents;
}

function checkKey(path: string, key: string, known: ReadonlySet<string>): string {
  const refused = REFUSED[key];
  if (refused !== undefined) throw new ValidationError(`${path}: ${key}`, refused);
  if (!known.has(key)) {
    const expected = [...known].sort().join(', ');
    throw new ValidationError(`${path}: ${key}`, `unknown setting; expected one of ${expected}`);
  }
  return key;
}

/** A scalar as the text a flag would carry; a list only where the flag takes several. */
function valueText(path: string, key: string, node: Node | null): string {
  const field = `${path}: ${key}`;
  if (isSeq(node) && LIST_KEYS.has(key)) {
    return node.items.map((item, index) => scalarText(`${field}[${index}]`, item)).join(',');
  }
  return scalarText(field, node);
}

function scalarText(field: string, node: unknown): string {
  if (!isScalar(node)) throw new ValidationError(field, 'expected a single value');
  const value = node.value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  throw new ValidationError(field, 'expected a value');
}
