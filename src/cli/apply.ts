import { isoTime, type Clock } from '../clock.js';
import { ConflictError } from '../errors.js';
import {
  canonicalJson,
  DESTINATION_KIND,
  formatKey,
  POLICY_KIND,
  type StoredObject,
} from '../model/index.js';
import type { KeyValue, Store } from '../store/index.js';
import { InvalidObjectError } from './errors.js';
import { writeLine, type Io } from './io.js';
import { displayName } from './kinds.js';
import type { Manifest } from './manifests.js';
import { CAS_ATTEMPTS, decodeStored } from './objects.js';

export type ApplyOutcome = 'created' | 'configured' | 'unchanged';

/**
 * Writes each manifest whole, in order, printing one line per object as kubectl does. Every
 * write is a compare-and-swap on what was just read, so a status the daemon writes meanwhile
 * is never lost: the object is read again and merged again.
 */
export async function applyManifests(
  store: Store,
  prefix: string,
  manifests: readonly Manifest[],
  clock: Clock,
  io: Io,
): Promise<void> {
  for (const manifest of manifests) {
    const outcome = await applyOne(store, prefix, manifest, clock);
    writeLine(io.stdout, `${displayName(manifest.ref)} ${outcome}`);
  }
}

export async function applyOne(
  store: Store,
  prefix: string,
  manifest: Manifest,
  clock: Clock,
): Promise<ApplyOutcome> {
  const key = formatKey(prefix, manifest.ref);

  for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
    const current = await store.get(key);
    const stored = current ? readStored(prefix, current) : undefined;
    const next = merge(manifest.object, stored, isoTime(clock.now()));
    if (stored && sameContent(stored, next)) return 'unchanged';

    const guard = current ? { modRevision: current.modRevision } : { createRevision: 0 };
    const value = JSON.stringify(next);
    const { succeeded } = await store.txn([{ key, guard }], [{ type: 'put', key, value }]);
    if (succeeded) return current ? 'configured' : 'created';
  }
  throw new ConflictError(key, `${key} kept changing; gave up after ${CAS_ATTEMPTS} attempts`);
}

/** The stored object, or undefined when the value is not a valid object: apply replaces it. */
function readStored(prefix: string, kv: KeyValue): StoredObject | undefined {
  try {
    return decodeStored(prefix, kv).object;
  } catch (err) {
    if (err instanceof InvalidObjectError) return undefined;
    throw err;
  }
}

/** alertmgr writes these kinds' `status`; apply keeps what is stored and ignores the input's. */
function ownsStatus(kind: string): boolean {
  return kind === POLICY_KIND || kind === DESTINATION_KIND;
}

/**
 * The object to write: the input, with the stored creation time and uuid kept (a uuid in
 * the input wins: changing it on purpose replaces the policy, as the contract allows), a new
 * modification time, and the stored status for the kinds whose status alertmgr owns.
 */
function merge(input: StoredObject, stored: StoredObject | undefined, time: string): StoredObject {
  const meta = { ...input.meta, modTime: time };
  if (stored === undefined) meta.creationTime = time;
  else if (stored.meta.creationTime !== undefined) meta.creationTime = stored.meta.creationTime;
  if (meta.uuid === undefined && stored?.meta.uuid !== undefined) meta.uuid = stored.meta.uuid;

  const next: StoredObject = { ...input, meta };
  if (ownsStatus(input.kind)) {
    delete next.status;
    if (stored?.status !== undefined) next.status = stored.status;
  }
  return next;
}

/** Equal apart from the modification time, which changes on every write by definition. */
function sameContent(stored: StoredObject, next: StoredObject): boolean {
  const comparable = (object: StoredObject) => ({
    ...object,
    meta: { ...object.meta, modTime: undefined },
  });
  return canonicalJson(comparable(stored)) === canonicalJson(comparable(next));
}
