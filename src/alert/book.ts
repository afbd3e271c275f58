import type { Alert, ObjectRef } from '../model/index.js';
import { applyIntents, type Intent } from './lifecycle.js';

/**
 * One alert as the alert stage tracks it: what etcd holds (`committed`, at `committedRev`),
 * the intents not yet written, and `view`, the alert as it will be once they are. Decisions
 * are made on `view`, so an intent waiting for its write is already taken into account.
 */
export interface Entry {
  readonly name: string;
  readonly tenant: string;
  readonly policyId: string;
  /** Key of the managed object the alert is about. */
  readonly objectKey: string;
  readonly objectRef: ObjectRef;
  committed: Alert | undefined;
  /** mod_revision of `committed`; 0 when the alert does not exist in etcd. */
  committedRev: number;
  intents: Intent[];
  /** How many of `intents` (from the front) are in the write now in flight; 0 if none. */
  sending: number;
  view: Alert | undefined;
  /** Watch events about this alert that arrived while its write was in flight. */
  deferred: Array<() => void>;
  conflicts: number;
}

/** The alerts, indexed by name, by policy and by managed object. */
export class AlertBook {
  private readonly entries = new Map<string, Entry>();
  private readonly byPolicy = new Map<string, Map<string, string>>();
  private readonly byObject = new Map<string, Set<string>>();

  get size(): number {
    return this.entries.size;
  }

  get(name: string): Entry | undefined {
    return this.entries.get(name);
  }

  values(): IterableIterator<Entry> {
    return this.entries.values();
  }

  /** The alert name for a (policy, object) pair, if the book has one. */
  nameFor(policyId: string, objectKey: string): string | undefined {
    return this.byPolicy.get(policyId)?.get(objectKey);
  }

  /** The alert names of one policy by managed object key; undefined when it has none. */
  namesByObject(policyId: string): ReadonlyMap<string, string> | undefined {
    return this.byPolicy.get(policyId);
  }

  namesOfPolicy(policyId: string): string[] {
    return [...(this.byPolicy.get(policyId)?.values() ?? [])];
  }

  namesOfObject(objectKey: string): string[] {
    return [...(this.byObject.get(objectKey) ?? [])];
  }

  /** A policy's alerts in etcd that are open and acknowledged, for its status. */
  countsOf(policyId: string): { open: number; acknowledged: number } {
    let open = 0;
    let acknowledged = 0;
    for (const name of this.byPolicy.get(policyId)?.values() ?? []) {
      const state = this.entries.get(name)?.committed?.spec.state;
      if (state === 'open') open++;
      else if (state === 'acknowledged') acknowledged++;
    }
    return { open, acknowledged };
  }

  /** The openings a policy's alerts in etcd count between them. */
  hitsOf(policyId: string): number {
    let hits = 0;
    for (const name of this.byPolicy.get(policyId)?.values() ?? []) {
      hits += this.entries.get(name)?.committed?.status.totalHits ?? 0;
    }
    return hits;
  }

  policyIds(): IterableIterator<string> {
    return this.byPolicy.keys();
  }

  getOrCreate(
    init: Pick<Entry, 'name' | 'tenant' | 'policyId' | 'objectKey' | 'objectRef'>,
  ): Entry {
    const existing = this.entries.get(init.name);
    if (existing) return existing;
    const entry: Entry = {
      ...init,
      committed: undefined,
      committedRev: 0,
      intents: [],
      sending: 0,
      view: undefined,
      deferred: [],
      conflicts: 0,
    };
    this.entries.set(entry.name, entry);
    let names = this.byPolicy.get(entry.policyId);
    if (!names) this.byPolicy.set(entry.policyId, (names = new Map<string, string>()));
    names.set(entry.objectKey, entry.name);
    let objects = this.byObject.get(entry.objectKey);
    if (!objects) this.byObject.set(entry.objectKey, (objects = new Set()));
    objects.add(entry.name);
    return entry;
  }

  /** Recomputes the view after `committed` or `intents` changed. */
  refresh(entry: Entry): void {
    entry.view = applyIntents(entry.committed, entry.intents).alert;
  }

  /** Forgets an entry that no longer exists anywhere and has nothing left to do. */
  dropIfIdle(entry: Entry): void {
    if (entry.committedRev !== 0 || entry.intents.length > 0 || entry.sending > 0) return;
    this.entries.delete(entry.name);
    const names = this.byPolicy.get(entry.policyId);
    names?.delete(entry.objectKey);
    if (names?.size === 0) this.byPolicy.delete(entry.policyId);
    const objects = this.byObject.get(entry.objectKey);
    objects?.delete(entry.name);
    if (objects?.size === 0) this.byObject.delete(entry.objectKey);
  }

  clear(): void {
    this.entries.clear();
    this.byPolicy.clear();
    this.byObject.clear();
  }
}
