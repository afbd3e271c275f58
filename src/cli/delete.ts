import { ConflictError } from '../errors.js';
import { formatKey, type ObjectRef } from '../model/index.js';
import type { Store } from '../store/index.js';
import { NotFoundError } from './errors.js';
import { CAS_ATTEMPTS } from './objects.js';

/**
 * Deletes one object; an absent one is a NotFoundError. The delete is guarded by the revision
 * just read, which is how the command knows the object was there when it went: etcd's delete
 * alone does not say. A write in between only means reading again.
 */
export async function deleteObject(store: Store, prefix: string, ref: ObjectRef): Promise<void> {
  const key = formatKey(prefix, ref);

  for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
    const current = await store.get(key);
    if (current === undefined) throw new NotFoundError(ref.kind, ref.tenant, ref.name);

    const guard = { modRevision: current.modRevision };
    const { succeeded } = await store.txn([{ key, guard }], [{ type: 'delete', key }]);
    if (succeeded) return;
  }
  throw new ConflictError(key, `${key} kept changing; gave up after ${CAS_ATTEMPTS} attempts`);
}
