import { createHash } from 'node:crypto';

import { ValidationError } from '../errors.js';
import {
  describeType,
  expectArray,
  expectObject,
  expectString,
  isAbsent,
  optionalObject,
  optionalString,
  quote,
  type JsonObject,
} from './json.js';
import { ALERT_KIND, type ObjectRef } from './keys.js';
import type { ObjectMeta, StoredObject } from './object.js';
import { policyNameOf } from './policy.js';
import { parseSeverity, type Severity } from './severity.js';

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;

export type AlertState = (typeof ALERT_STATES)[number];

export function isAlertState(value: unknown): value is AlertState {
  return (ALERT_STATES as readonly unknown[]).includes(value);
}

/** What an alert records about one requirement of its policy when it opened. */
export interface MatchedRequirement {
  key: string;
  operator: string;
  values: string[];
  observedValue: string;
}

/** Who acknowledged or resolved an alert, and when (RFC 3339). */
export interface AlertAudit {
  user: string;
  time: string;
}

export interface AlertReason {
  policyId: string;
  matchedRequirements: MatchedRequirement[];
}

export interface AlertSpec {
  state: AlertState;
}

export interface AlertStatus {
  severity: Severity;
  message: string;
  objectRef: ObjectRef;
  reason: AlertReason;
  /** Absent unless the alert is acknowledged. */
  acknowledged?: AlertAudit;
  /** Absent unless the alert is resolved. */
  resolved?: AlertAudit;
  /** Times the alert opened, reopenings included. */
  totalHits: number;
}

/** An Alert as stored at `<prefix>/Alert/<tenant>/<name>`. */
export interface Alert {
  kind: typeof ALERT_KIND;
  meta: ObjectMeta;
  spec: AlertSpec;
  status: AlertStatus;
}

const NAME_PART_LIMIT = 60;
const HASH_CHARS = 10;

/**
 * The name of the one alert for a (policy id, managed object) pair. Being a pure function of
 * the two is what keeps a crash and restart from creating a second alert. The readable part
 * helps people; the hash, over the full policy id and object, keeps names distinct even when
 * the readable parts are cut short or lose characters to sanitising.
 */
export function alertName(policyId: string, object: ObjectRef): string {
  const policyName = policyNameOf(policyId);
  const digest = createHash('sha256')
    .update(`${policyId}\n${object.kind}\n${object.tenant}\n${object.name}`)
    .digest('hex')
    .slice(0, HASH_CHARS);
  return `${namePart(policyName)}-${namePart(object.name)}-${digest}`;
}

/** Lower case, with anything outside `[a-z0-9.-]` as `-`, so it is safe as a key segment. */
function namePart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .slice(0, NAME_PART_LIMIT);
}

/**
 * Checks an Alert read back from etcd (the output of `decodeObject`) and returns it typed.
 *
 * It is strict about what alertmgr needs to act on the alert (the state, the object it is
 * about and the policy id) and lenient about descriptive fields: a missing severity reads as
 * info, a missing message as "", missing counters as 0 and missing matched requirements as
 * none, so an alert written by an older or hand-edited version still works. Fields it does
 * not know are dropped.
 */
export function decodeAlert(ref: ObjectRef, object: StoredObject): Alert {
  if (ref.kind !== ALERT_KIND) {
    throw new ValidationError('kind', `expected ${quote(ALERT_KIND)}, got ${quote(ref.kind)}`);
  }

  const spec = expectObject(object.spec, 'spec');
  if (!isAlertState(spec.state)) {
    const found = typeof spec.state === 'string' ? quote(spec.state) : describeType(spec.state);
    throw new ValidationError(
      'spec.state',
      `expected open, acknowledged or resolved, got ${found}`,
    );
  }

  return {
    kind: ALERT_KIND,
    meta: object.meta,
    spec: { state: spec.state },
    status: decodeStatus(expectObject(object.status, 'status')),
  };
}

function decodeStatus(status: JsonObject): AlertStatus {
  const reason = expectObject(status.reason, 'status.reason');
  const result: AlertStatus = {
    severity: isAbsent(status.severity)
      ? 'info'
      : parseSeverity(status.severity, 'status.severity'),
    message: optionalString(status.message, 'status.message', false) ?? '',
    objectRef: decodeObjectRef(status.objectRef, 'status.objectRef'),
    reason: {
      policyId: expectString(reason.policyId, 'status.reason.policyId'),
      matchedRequirements: decodeMatches(reason.matchedRequirements),
    },
    totalHits: decodeCount(status.totalHits, 'status.totalHits'),
  };

  const acknowledged = decodeAudit(status.acknowledged, 'status.acknowledged');
  if (acknowledged) result.acknowledged = acknowledged;
  const resolved = decodeAudit(status.resolved, 'status.resolved');
  if (resolved) result.resolved = resolved;
  return result;
}

function decodeObjectRef(value: unknown, field: string): ObjectRef {
  const ref = expectObject(value, field);
  return {
    kind: expectString(ref.kind, `${field}.kind`),
    tenant: expectString(ref.tenant, `${field}.tenant`),
    name: expectString(ref.name, `${field}.name`),
  };
}

function decodeMatches(value: unknown): MatchedRequirement[] {
  const field = 'status.reason.matchedRequirements';
  if (isAbsent(value)) return [];

  return expectArray(value, field).map((entry, index) => {
    const at = `${field}[${index}]`;
    const match = expectObject(entry, at);
    return {
      key: expectString(match.key, `${at}.key`),
      operator: expectString(match.operator, `${at}.operator`),
      values: expectArray(match.values, `${at}.values`).map((text, position) =>
        expectString(text, `${at}.values[${position}]`, false),
      ),
      observedValue: optionalString(match.observedValue, `${at}.observedValue`, false) ?? '',
    };
  });
}

function decodeAudit(value: unknown, field: string): AlertAudit | undefined {
  const audit = optionalObject(value, field);
  if (audit === undefined) return undefined;
  return {
    user: expectString(audit.user, `${field}.user`, false),
    time: expectString(audit.time, `${field}.time`),
  };
}

function decodeCount(value: unknown, field: string): number {
  if (isAbsent(value)) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    const found = typeof value === 'number' ? String(value) : describeType(value);
    throw new ValidationError(field, `expected a whole number of at least 0, got ${found}`);
  }
  return value;
}
