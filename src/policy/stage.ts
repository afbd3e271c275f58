import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import {
  compilePolicy,
  decodeObject,
  formatKey,
  type CompiledPolicy,
  type ObjectRef,
} from '../model/index.js';
import { storedCount, type KeyValue, type WatchEvent } from '../store/index.js';
import type { PolicyInfo, Verdicts } from '../alert/types.js';
import { scopeId, type ObjectCache } from '../watcher/cache.js';
import type { EvaluationResult } from './evaluate.js';

/** Where the policy stage sends its output: the alert stage, in order. */
export interface PolicyOutput {
  upsert(info: PolicyInfo): void;
  remove(policyId: string): void;
  invalid(key: string, error: string): void;
  valid(key: string): void;
  forget(key: string): void;
  verdicts(verdicts: Verdicts): void;
  objectsGone(keys: string[]): void;
  reconcile(): void;
}

/** The per-policy children, as the stage sees them (nact actors in production). */
export interface PolicyChildren {
  spawn(policy: CompiledPolicy): void;
  stop(policyId: string): void;
  /** Evaluates `keys` (or every object of the policy's scope) in the policy's child. */
  evaluate(policyId: string, keys: readonly string[] | 'all'): Promise<EvaluationResult>;
}

interface Known {
  readonly key: string;
  /** The policy in force; undefined while the latest version is invalid. */
  compiled: CompiledPolicy | undefined;
  /** The last valid version, kept so its alerts can clear when the policy turns invalid. */
  info: PolicyInfo | undefined;
}

export interface PolicyStageOptions {
  readonly prefix: string;
  readonly clearDurationMs: number;
  readonly cache: ObjectCache;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly out: PolicyOutput;
  readonly children: PolicyChildren;
}

/**
 * Keeps the policies, indexed by (tenant, kind), and decides what to evaluate: a changed
 * object runs through the policies of its tenant and kind only, a new or changed policy runs
 * over every cached object of its kind. Object changes only mark keys dirty; a flush
 * evaluates each dirty key once against its latest state, so a burst of updates to one
 * object costs one evaluation.
 */
export class PolicyStage {
  private readonly byKey = new Map<string, Known>();
  private readonly byScope = new Map<string, Set<string>>();
  private readonly dirty = new Set<string>();
  /** Invalid policy keys, with the problem last logged, so each problem is logged once. */
  private readonly rejected = new Map<string, string>();

  constructor(private readonly o: PolicyStageOptions) {}

  get pendingKeys(): number {
    return this.dirty.size;
  }

  /** Start-up: all policies at once, then one evaluation each, then reconciliation. */
  async sync(items: readonly KeyValue[]): Promise<void> {
    const fresh: CompiledPolicy[] = [];
    for (const kv of items) {
      const compiled = this.put(kv);
      if (compiled) fresh.push(compiled);
    }
    await this.evaluateEach(fresh);
    this.o.out.reconcile();
  }

  async policyEvents(events: readonly WatchEvent[]): Promise<void> {
    const fresh: CompiledPolicy[] = [];
    for (const event of events) {
      if (event.type === 'delete') {
        this.remove(event.key);
        continue;
      }
      const compiled = this.put(event.kv);
      if (compiled) fresh.push(compiled);
    }
    await this.evaluateEach(fresh);
  }

  markDirty(keys: Iterable<string>): void {
    for (const key of keys) this.dirty.add(key);
  }

  /** Evaluates every dirty key once, reading the object as it is now. */
  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const keys = [...this.dirty];
    this.dirty.clear();

    const gone: string[] = [];
    const byScope = new Map<string, string[]>();
    for (const key of keys) {
      const cached = this.o.cache.get(key);
      if (!cached) {
        gone.push(key);
        continue;
      }
      const scope = scopeId(cached.ref.tenant, cached.ref.kind);
      let list = byScope.get(scope);
      if (!list) byScope.set(scope, (list = []));
      list.push(key);
    }
    if (gone.length > 0) this.o.out.objectsGone(gone);

    const work: Array<Promise<void>> = [];
    for (const [scope, scopeKeys] of byScope) {
      for (const policyKey of this.byScope.get(scope) ?? []) {
        const compiled = this.byKey.get(policyKey)?.compiled;
        if (compiled) work.push(this.run(compiled, scopeKeys));
      }
    }
    await Promise.all(work);
  }

  /** Compiles a put policy; returns it when it is new or behaves differently. */
  private put(kv: KeyValue): CompiledPolicy | undefined {
    const known = this.byKey.get(kv.key);
    let ref: ObjectRef;
    let compiled: CompiledPolicy;
    try {
      const decoded = decodeObject(this.o.prefix, kv.key, kv.value);
      ref = decoded.ref;
      try {
        compiled = compilePolicy(ref, decoded.object, kv.createRevision, {
          clearDurationMs: this.o.clearDurationMs,
        });
      } catch (err) {
        this.o.out.invalid(kv.key, err instanceof Error ? err.message : String(err));
        throw err;
      }
    } catch (err) {
      this.reject(kv, err);
      if (known?.compiled) this.retire(known);
      return undefined;
    }

    this.clearRejected(kv.key);
    const current = known?.compiled;
    // alertmgr's own status writes come back as updates; they change nothing to evaluate.
    if (current && current.id === compiled.id && current.specHash === compiled.specHash) {
      return undefined;
    }
    if (known?.info && known.info.id !== compiled.id) {
      // A new uid (meta.uuid changed, or delete and re-create) is a new policy.
      this.o.out.remove(known.info.id);
    }
    if (current) {
      this.o.children.stop(current.id);
      this.unindex(current, kv.key);
    }

    // A new id is a new policy: its hits start from zero, whatever the old one's status says.
    const renewed = known?.info !== undefined && known.info.id !== compiled.id;
    const info = toInfo(compiled, kv.key, renewed ? 0 : storedCount(kv, 'totalHits'));
    this.byKey.set(kv.key, { key: kv.key, compiled, info });
    this.index(compiled, kv.key);
    this.o.children.spawn(compiled);
    this.o.out.valid(kv.key);
    this.o.out.upsert(info);
    if (!compiled.enabled) return undefined;
    this.o.log.info(
      { [F.policy]: compiled.id, resource: compiled.resource, tenant: ref.tenant },
      current ? 'policy updated' : 'policy loaded',
    );
    return compiled;
  }

  private remove(key: string): void {
    const known = this.byKey.get(key);
    this.byKey.delete(key);
    this.clearRejected(key);
    this.o.out.forget(key);
    if (!known) return;
    if (known.compiled) {
      this.o.children.stop(known.compiled.id);
      this.unindex(known.compiled, key);
    }
    if (known.info) {
      this.o.out.remove(known.info.id);
      this.o.log.info({ [F.policy]: known.info.id }, 'policy deleted');
    }
  }

  /** The policy turned invalid: it stops evaluating and its alerts clear, as if disabled. */
  private retire(known: Known): void {
    const compiled = known.compiled!;
    this.o.children.stop(compiled.id);
    this.unindex(compiled, known.key);
    known.compiled = undefined;
    if (known.info) {
      known.info = { ...known.info, enabled: false };
      this.o.out.upsert(known.info);
    }
  }

  /**
   * Runs new policies over their objects one after another, not all at once: each run over
   * a large kind is long, and started together they would hold the event loop for seconds,
   * long enough for etcd calls waiting on it to miss their deadlines.
   */
  private async evaluateEach(policies: readonly CompiledPolicy[]): Promise<void> {
    for (const policy of policies) await this.evaluateAll(policy);
  }

  private async evaluateAll(policy: CompiledPolicy): Promise<void> {
    await this.run(policy, 'all');
  }

  private async run(policy: CompiledPolicy, keys: readonly string[] | 'all'): Promise<void> {
    let result: EvaluationResult;
    try {
      result = await this.o.children.evaluate(policy.id, keys);
    } catch (err) {
      // The child is gone (replaced by a newer version of the policy): nothing to report.
      this.o.log.debug({ [F.policy]: policy.id, [F.err]: String(err) }, 'evaluation dropped');
      return;
    }
    // Only the version of the policy still in force may report; an older one's verdicts
    // could reopen what the new version no longer matches.
    const current = this.byKey.get(formatKey(this.o.prefix, policy.ref))?.compiled;
    if (current !== policy) return;
    this.o.out.verdicts({ policyId: policy.id, ...result });
  }

  private reject(kv: KeyValue, err: unknown): void {
    // Once per problem, not per revision: alertmgr's own status write makes a new revision.
    if (this.rejected.get(kv.key) === String(err)) return;
    this.rejected.set(kv.key, String(err));
    this.o.metrics.invalidPolicies.set(this.rejected.size);
    this.o.log.warn(
      { [F.policy]: kv.key, [F.revision]: kv.modRevision, [F.err]: String(err) },
      'invalid policy: it produces no alerts',
    );
  }

  private clearRejected(key: string): void {
    if (this.rejected.delete(key)) this.o.metrics.invalidPolicies.set(this.rejected.size);
  }

  private index(policy: CompiledPolicy, key: string): void {
    const scope = scopeId(policy.ref.tenant, policy.resource);
    let keys = this.byScope.get(scope);
    if (!keys) this.byScope.set(scope, (keys = new Set()));
    keys.add(key);
  }

  private unindex(policy: CompiledPolicy, key: string): void {
    const scope = scopeId(policy.ref.tenant, policy.resource);
    const keys = this.byScope.get(scope);
    keys?.delete(key);
    if (keys?.size === 0) this.byScope.delete(scope);
  }
}

function toInfo(policy: CompiledPolicy, key: string, hits: number): PolicyInfo {
  return {
    id: policy.id,
    key,
    name: policy.ref.name,
    tenant: policy.ref.tenant,
    resource: policy.resource,
    severity: policy.severity,
    message: policy.message,
    persistenceMs: policy.persistenceMs,
    clearMs: policy.clearMs,
    enabled: policy.enabled,
    destinations: policy.destinations,
    storedHits: hits,
  };
}
