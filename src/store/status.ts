import type { KeyValue, Store } from './types.js';

/**
 * Sets fields of an object's `status` in etcd, leaving the rest of the object as it is.
 * The write is a compare-and-swap on the object's revision, so a concurrent change (a user's
 * `apply`) is never lost; a status that already holds the values is not written at all.
 * Returns false when the object changed under the write and it must be tried again; true
 * when written, already right, or the object is gone.
 */
export async function mergeStatus(
  store: Store,
  key: string,
  wanted: Readonly<Record<string, unknown>>,
  /** Fields the status gets when it has none of them yet. */
  defaults: Readonly<Record<string, unknown>> = {},
): Promise<boolean> {
  const kv = await store.get(key);
  if (!kv) return true;
  const document = JSON.parse(Buffer.from(kv.value).toString()) as Record<string, unknown>;
  const current = (document.status ?? {}) as Record<string, unknown>;
  const status = { ...defaults, ...current, ...wanted };
  if (sameFields(status, current)) return true;
  const value = JSON.stringify({ ...document, status });
  const res = await store.txn(
    [{ key, guard: { modRevision: kv.modRevision } }],
    [{ type: 'put', key, value }],
  );
  return res.succeeded;
}

function sameFields(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return false;
  return true;
}

/**
 * A count alertmgr keeps in an object's `status` (a policy's `totalHits`, a destination's
 * `totalNotificationsSent`), as stored; 0 when absent or not a count.
 */
export function storedCount(kv: KeyValue, field: string): number {
  try {
    const doc = JSON.parse(Buffer.from(kv.value).toString()) as {
      status?: Record<string, unknown>;
    };
    const count = doc.status?.[field];
    return typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : 0;
  } catch {
    return 0;
  }
}
