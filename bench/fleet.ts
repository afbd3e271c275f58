import type { EtcdStore } from '../src/store/index.js';
import { MAX_TXN_OPS } from '../src/store/index.js';

/**
 * The synthetic world the bench writes, as an API server would: managed objects of one kind
 * and policies that each match one fault value, so every object change opens or resolves
 * exactly one alert and the expected alert set follows from the objects' last states.
 *
 * Object i has `status.fault` either "none" or `f<k>`; policy k requires
 * `status.fault equals f<k>`, with persistence and clear durations of 0 s so that no timer
 * sits between an object write and its alert write.
 */

export const KIND = 'DistributedServiceCard';
export const TENANT = 'default';
export const NO_FAULT = -1;
/** Label zones: the new-policy scenario's policy matches zone z0, a tenth of the objects. */
export const ZONES = 10;

export type ExpectedState = 'open' | 'resolved';

export function objectName(i: number): string {
  return `card-${String(i).padStart(6, '0')}`;
}

/** The index of a bench object's name; -1 for any other name. */
export function objectIndex(name: string): number {
  return name.startsWith('card-') ? Number(name.slice(5)) : -1;
}

export function policyName(k: number): string {
  return `bench-p${String(k).padStart(3, '0')}`;
}

/** Policies carry meta.uuid, so their ids are known before the daemon sees them. */
export function policyId(k: number): string {
  return `${policyName(k)}/${policyName(k)}-uid`;
}

/** The identity of an alert as the bench tracks it: policy id and object name. */
export function pairOf(policy: string, object: string): string {
  return `${policy}|${object}`;
}

export interface Entry {
  readonly key: string;
  readonly value: string;
}

export class Fleet {
  /** The fault of each object: a policy number, or NO_FAULT. */
  readonly faults: Int16Array;
  private readonly seq: Uint32Array;
  private readonly flips: Uint32Array;

  constructor(
    readonly prefix: string,
    readonly size: number,
    readonly policies: number,
  ) {
    this.faults = new Int16Array(size).fill(NO_FAULT);
    this.seq = new Uint32Array(size);
    this.flips = new Uint32Array(size);
  }

  objectKey(i: number): string {
    return `${this.prefix}/${KIND}/${TENANT}/${objectName(i)}`;
  }

  objectDoc(i: number): string {
    const fault = this.faults[i]!;
    return JSON.stringify({
      kind: KIND,
      meta: {
        name: objectName(i),
        tenant: TENANT,
        labels: { zone: `z${i % ZONES}`, rack: `r${Math.floor(i / 40)}` },
      },
      spec: { model: 'bench-dsc', admitted: true, ports: 4 },
      status: {
        fault: fault === NO_FAULT ? 'none' : `f${fault}`,
        health: fault === NO_FAULT ? 'up' : 'degraded',
        seq: this.seq[i],
        version: '1.2.3',
      },
    });
  }

  policyEntry(k: number): Entry {
    return policyEntry(this.prefix, policyName(k), `${policyName(k)}-uid`, {
      key: 'status.fault',
      values: [`f${k}`],
      message: `card reports fault f${k}`,
    });
  }

  /** The policy of the new-policy scenario: every object in zone z0. */
  zonePolicyEntry(name: string): Entry {
    return policyEntry(this.prefix, name, `${name}-uid`, {
      key: 'meta.labels.zone',
      values: ['z0'],
      message: 'card in zone z0',
    });
  }

  objectEntry(i: number): Entry {
    return { key: this.objectKey(i), value: this.objectDoc(i) };
  }

  /** Sets object i's fault (NO_FAULT or a policy number) and counts the change. */
  setFault(i: number, fault: number): void {
    this.faults[i] = fault;
    this.seq[i]!++;
  }

  /**
   * Flips object i between healthy and faulty, spreading faults over the policies, and
   * says which alert write the daemon owes for it.
   */
  toggle(i: number): { pair: string; state: ExpectedState } {
    const before = this.faults[i]!;
    if (before !== NO_FAULT) {
      this.setFault(i, NO_FAULT);
      return { pair: pairOf(policyId(before), objectName(i)), state: 'resolved' };
    }
    const k = (i * 7 + this.flips[i]!++) % this.policies;
    this.setFault(i, k);
    return { pair: pairOf(policyId(k), objectName(i)), state: 'open' };
  }

  /** The (policy, object) pairs that must have an open alert, given the objects' states. */
  expectedOpen(): Set<string> {
    const out = new Set<string>();
    this.faults.forEach((k, i) => {
      if (k !== NO_FAULT) out.add(pairOf(policyId(k), objectName(i)));
    });
    return out;
  }

  /** Writes the policies, then every object, in transactions of 128. */
  async seed(store: EtcdStore, onProgress: (done: number) => void = () => {}): Promise<void> {
    const policies = Array.from({ length: this.policies }, (_, k) => this.policyEntry(k));
    await putAll(store, policies);
    const objects = Array.from({ length: this.size }, (_, i) => this.objectEntry(i));
    await putAll(store, objects, 4, onProgress);
  }

  /** Writes the current documents of some objects (distinct, at most 128) in one transaction. */
  write(store: EtcdStore, indices: readonly number[]): Promise<unknown> {
    return store.batch(
      indices.map((i) => ({
        op: { type: 'put', key: this.objectKey(i), value: this.objectDoc(i) },
      })),
    );
  }
}

function policyEntry(
  prefix: string,
  name: string,
  uuid: string,
  match: { key: string; values: string[]; message: string },
): Entry {
  const doc = {
    kind: 'AlertPolicy',
    meta: { name, tenant: TENANT, uuid },
    spec: {
      resource: KIND,
      severity: 'warn',
      message: match.message,
      requirements: [{ key: match.key, operator: 'equals', values: match.values }],
      persistenceDuration: '0s',
      clearDuration: '0s',
      enable: true,
    },
  };
  return { key: `${prefix}/AlertPolicy/${TENANT}/${name}`, value: JSON.stringify(doc) };
}

/** Puts entries in transactions of 128, `concurrency` of them in flight. */
export async function putAll(
  store: EtcdStore,
  entries: readonly Entry[],
  concurrency = 4,
  onProgress: (done: number) => void = () => {},
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < entries.length) {
      const chunk = entries.slice(next, next + MAX_TXN_OPS);
      next += chunk.length;
      await store.batch(chunk.map((e) => ({ op: { type: 'put', key: e.key, value: e.value } })));
      done += chunk.length;
      onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
