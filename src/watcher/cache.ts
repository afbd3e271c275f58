import type { ObjectRef, StoredObject } from '../model/index.js';

export interface CachedObject {
  readonly key: string;
  readonly ref: ObjectRef;
  readonly object: StoredObject;
  readonly modRevision: number;
}

/**
 * The local copy of every managed object under the prefix, indexed by (tenant, kind) so a
 * policy finds the objects it applies to without scanning the rest. The watcher is its only
 * writer; the policy and alert stages read it, always seeing the latest state (processing is
 * level-based: they are told which keys changed and read the current object here).
 */
export class ObjectCache {
  private readonly byKey = new Map<string, CachedObject>();
  private readonly byScope = new Map<string, Set<string>>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): CachedObject | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  set(entry: CachedObject): void {
    const previous = this.byKey.get(entry.key);
    if (previous) this.scope(previous.ref).delete(entry.key);
    this.byKey.set(entry.key, entry);
    this.scope(entry.ref).add(entry.key);
  }

  delete(key: string): CachedObject | undefined {
    const previous = this.byKey.get(key);
    if (!previous) return undefined;
    this.byKey.delete(key);
    const id = scopeId(previous.ref.tenant, previous.ref.kind);
    const keys = this.byScope.get(id);
    keys?.delete(key);
    if (keys?.size === 0) this.byScope.delete(id);
    return previous;
  }

  /** Keys of the objects of one kind in one tenant. */
  keysOf(tenant: string, kind: string): ReadonlySet<string> {
    return this.byScope.get(scopeId(tenant, kind)) ?? EMPTY;
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  clear(): void {
    this.byKey.clear();
    this.byScope.clear();
  }

  private scope(ref: ObjectRef): Set<string> {
    const id = scopeId(ref.tenant, ref.kind);
    let keys = this.byScope.get(id);
    if (!keys) {
      keys = new Set();
      this.byScope.set(id, keys);
    }
    return keys;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

export function scopeId(tenant: string, kind: string): string {
  return `${tenant}\u0000${kind}`;
}
