import { ValidationError } from '../errors.js';
import { decodeObject, type DecodedObject } from '../model/index.js';
import { EtcdStore, type KeyValue, type Store } from '../store/index.js';
import { InvalidObjectError } from './errors.js';
import { etcdStoreOptions } from './etcd-access.js';
import type { Connection } from './options.js';

/** Deadline of each etcd call a command makes: long enough for a busy cluster, not forever. */
const REQUEST_TIMEOUT_MS = 5_000;

/** Attempts of a compare-and-swap write before the command gives up on a busy key. */
export const CAS_ATTEMPTS = 5;

/** Runs `fn` with a store on the connection's etcd and closes it afterwards. */
export async function withStore<T>(
  connection: Connection,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const store = new EtcdStore({
    ...etcdStoreOptions(connection.etcdEndpoints, connection.etcdAccess),
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Decodes a stored entry; an invalid one is an InvalidObjectError (a runtime failure). */
export function decodeStored(prefix: string, kv: KeyValue): DecodedObject {
  return decodeFromStore(kv.key, () => decodeObject(prefix, kv.key, kv.value));
}

/**
 * Runs a decoder over what etcd holds at `key`. Its ValidationError blames stored content,
 * not the user's input, so it becomes an InvalidObjectError: exit 1, not 2.
 */
export function decodeFromStore<T>(key: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof ValidationError) throw new InvalidObjectError(key, err);
    throw err;
  }
}
