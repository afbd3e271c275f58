import type { MatchedRequirement, ObjectRef } from '../model/index.js';
import type { Severity } from '../model/severity.js';

/** What the alert stage needs to know of a policy. */
export interface PolicyInfo {
  readonly id: string;
  /** etcd key of the policy, where its status is written. */
  readonly key: string;
  readonly name: string;
  readonly tenant: string;
  readonly resource: string;
  readonly severity: Severity;
  readonly message: string;
  readonly persistenceMs: number;
  readonly clearMs: number;
  /** False when disabled: the policy opens nothing and its alerts clear. */
  readonly enabled: boolean;
  readonly destinations: readonly string[];
  /** `status.totalHits` as found on the policy when first seen. */
  readonly storedHits: number;
}

/** The outcome of evaluating some objects of one policy's scope. */
export interface Verdicts {
  readonly policyId: string;
  /** Every object key evaluated. */
  readonly evaluated: readonly string[];
  /** The ones that match, with what matched. */
  readonly matches: ReadonlyMap<string, { ref: ObjectRef; matched: MatchedRequirement[] }>;
}

/**
 * What the alert stage carries over a restart. The alerts themselves are not in it: they are
 * read back from etcd (or the watcher's snapshot) like every other key. What etcd does not
 * hold is which alerts are waiting out a persistence or clear delay, and since when, and the
 * policy hit counts not yet written to policy status.
 */
export interface AlertSnapshot {
  readonly waiting: ReadonlyArray<Waiting & { readonly due: number }>;
  readonly hits: ReadonlyArray<[policyId: string, hits: number]>;
}

export interface Waiting {
  readonly kind: 'open' | 'clear';
  readonly name: string;
  readonly policyId: string;
  readonly objectKey: string;
  readonly ref: ObjectRef;
  matched: MatchedRequirement[];
}
