import { ValidationError } from '../errors.js';
import {
  ALERT_KIND,
  DESTINATION_KIND,
  normalizePrefix,
  POLICY_KIND,
  type ObjectRef,
} from '../model/index.js';
import type { Store } from '../store/index.js';

/**
 * alertmgr's own kinds may be written in any case, singular, plural or short, as kubectl
 * users expect. A managed object kind is an etcd key segment that alertmgr does not own, so
 * `findStoredKind` looks it up among the kinds present in etcd (`node` and `nodes` find
 * `Node`).
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

/** The kind a command line names, before any lookup: an alias, else the text itself. */
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

const OWN_KINDS: ReadonlySet<string> = new Set(Object.values(ALIASES));

/**
 * The kind present under `prefix` that `kind` names: itself when it has objects; else the one
 * kind equal to it ignoring case; else, for a word that looks plural, the one kind equal to a
 * singular of it (`nodes`, `switches`, `proxies`). Two kinds that differ only in case are
 * ambiguous (a ValidationError) unless one is written exactly. When nothing matches, `kind`
 * comes back as given, so the command reports that nothing of that kind exists.
 */
export async function findStoredKind(store: Store, prefix: string, kind: string): Promise<string> {
  const root = `${normalizePrefix(prefix)}/`;
  const probe = memoized((keyPrefix) => hasKeys(store, keyPrefix));
  if (OWN_KINDS.has(kind) || (await probe(`${root}${kind}/`))) return kind;

  for (const candidates of [[kind], singulars(kind)]) {
    const found = new Set<string>();
    for (const candidate of candidates) {
      for (const match of await kindsIgnoringCase(probe, root, candidate)) found.add(match);
    }
    const [only, ...others] = [...found].sort();
    if (only !== undefined && others.length === 0) return only;
    if (only !== undefined) {
      throw new ValidationError(
        'KIND',
        `${JSON.stringify(kind)} matches several kinds (${[only, ...others].join(', ')}); ` +
          'write the one you mean exactly',
      );
    }
  }
  return kind;
}

/** Simple English plurals: `nodes` → `node`, `switches` → `switch`, `proxies` → `proxy`. */
function singulars(word: string): string[] {
  const lower = word.toLowerCase();
  const forms: string[] = [];
  if (lower.endsWith('ies') && word.length > 3) forms.push(`${word.slice(0, -3)}y`);
  if (lower.endsWith('es') && word.length > 2) forms.push(word.slice(0, -2));
  if (lower.endsWith('s') && word.length > 1) forms.push(word.slice(0, -1));
  return forms;
}

type Probe = (keyPrefix: string) => Promise<boolean>;

/**
 * The kinds under `root` equal to `wanted` ignoring case. Kinds are not listed: that would
 * read every object. Instead the walk extends a key prefix one character at a time, trying
 * the character's lower and upper case, and follows only the prefixes some key starts with.
 * Each probe reads at most one key, and a word and its singulars share their probes, so the
 * cost grows with the length of the kind's name, never with the number of objects.
 */
async function kindsIgnoringCase(probe: Probe, root: string, wanted: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (head: string, rest: string[]): Promise<void> => {
    const [char, ...tail] = rest;
    if (char === undefined) {
      found.push(head);
      return;
    }
    for (const variant of new Set([char.toLowerCase(), char.toUpperCase()])) {
      // The last character must end the kind segment: `Node` is not a match for `NodeGroup`.
      const next = `${head}${variant}`;
      if (await probe(tail.length === 0 ? `${root}${next}/` : `${root}${next}`)) {
        await walk(next, tail);
      }
    }
  };
  await walk('', Array.from(wanted));
  return found;
}

function memoized(probe: Probe): Probe {
  const seen = new Map<string, Promise<boolean>>();
  return (keyPrefix) => {
    let answer = seen.get(keyPrefix);
    if (answer === undefined) {
      answer = probe(keyPrefix);
      seen.set(keyPrefix, answer);
    }
    return answer;
  };
}

/** Whether any key starts with `keyPrefix`: one page of one key, at most. */
async function hasKeys(store: Store, keyPrefix: string): Promise<boolean> {
  for await (const page of store.listPages(keyPrefix, { pageSize: 1 })) {
    return page.items.length > 0;
  }
  return false;
}
