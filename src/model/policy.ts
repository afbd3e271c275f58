import { ValidationError } from '../errors.js';
import { compileRequirements, type Matcher } from '../matcher/index.js';
import { parseDuration } from './duration.js';
import { stableHash } from './hash.js';
import {
  expectArray,
  expectObject,
  expectString,
  isAbsent,
  optionalBoolean,
  optionalString,
  quote,
} from './json.js';
import { isManagedKind, POLICY_KIND, type ObjectRef } from './keys.js';
import type { StoredObject } from './object.js';
import { parseSeverity, type Severity } from './severity.js';

/** One requirement as a user writes it; numbers and booleans in `values` count as text. */
export interface RequirementSpec {
  key: string;
  operator: string;
  values: Array<string | number | boolean>;
}

/** `spec` of an AlertPolicy as written by users, with the defaults the contract gives. */
export interface AlertPolicySpec {
  /** Kind of managed object the policy applies to, in the policy's tenant. */
  resource: string;
  /** Default info. */
  severity?: Severity;
  /** Default "". */
  message?: string;
  requirements: RequirementSpec[];
  /** How long the condition must hold before the alert opens. Default 0s. */
  persistenceDuration?: string;
  /** How long the condition must be false before the alert resolves. Default --clear-duration. */
  clearDuration?: string;
  /** Default true; false opens nothing and lets the policy's alerts resolve. */
  enable?: boolean;
  /** AlertDestination names in the policy's tenant. Default none. */
  destinations?: string[];
}

/** `status` of an AlertPolicy, written by alertmgr only. */
export interface AlertPolicyStatus {
  totalHits: number;
  openAlerts: number;
  acknowledgedAlerts: number;
  /** Why the policy is not in force, or "" when it is valid. */
  error: string;
}

/** A policy after validation, with every default applied and durations in milliseconds. */
export interface CompiledPolicy {
  /** `<name>/<uid>`: uid is `meta.uuid`, or the policy key's create revision in decimal. */
  id: string;
  ref: ObjectRef;
  resource: string;
  severity: Severity;
  message: string;
  persistenceMs: number;
  clearMs: number;
  enabled: boolean;
  destinations: string[];
  matcher: Matcher;
  /** Hash of the normalised spec: equal hashes mean the policy behaves the same. */
  specHash: string;
}

export interface PolicyDefaults {
  /** Used when the spec has no clearDuration (the daemon's --clear-duration). */
  clearDurationMs: number;
}

/**
 * Validates an AlertPolicy and compiles it. Throws a ValidationError naming the first field
 * at fault, whose message is meant for the policy's `status.error`.
 *
 * `createRevision` is the etcd create_revision of the policy key. It gives the id when the
 * policy has no `meta.uuid`, so deleting and re-creating such a policy makes a new id.
 */
export function compilePolicy(
  ref: ObjectRef,
  object: StoredObject,
  createRevision: number,
  defaults: PolicyDefaults,
): CompiledPolicy {
  if (ref.kind !== POLICY_KIND) {
    throw new ValidationError('kind', `expected ${quote(POLICY_KIND)}, got ${quote(ref.kind)}`);
  }
  const spec = expectObject(object.spec, 'spec');

  const resource = readResource(spec.resource);
  const severity = isAbsent(spec.severity) ? 'info' : parseSeverity(spec.severity, 'spec.severity');
  const message = optionalString(spec.message, 'spec.message', false) ?? '';
  const matcher = compileRequirements(spec.requirements, 'spec.requirements');
  const persistenceMs = readDuration(spec.persistenceDuration, 'spec.persistenceDuration', 0);
  const clearMs = readDuration(spec.clearDuration, 'spec.clearDuration', defaults.clearDurationMs);
  const enabled = optionalBoolean(spec.enable, 'spec.enable') ?? true;
  const destinations = readDestinations(spec.destinations);

  const specHash = stableHash({
    resource,
    severity,
    message,
    requirements: matcher.requirements,
    persistenceMs,
    clearMs,
    enabled,
    destinations,
  });
  const id = `${ref.name}/${policyUid(object, createRevision)}`;
  return {
    id,
    ref,
    resource,
    severity,
    message,
    persistenceMs,
    clearMs,
    enabled,
    destinations,
    matcher,
    specHash,
  };
}

/** The policy name part of a policy id: everything before the first `/`. */
export function policyNameOf(policyId: string): string {
  const slash = policyId.indexOf('/');
  return slash === -1 ? policyId : policyId.slice(0, slash);
}

function policyUid(object: StoredObject, createRevision: number): string {
  // An empty uuid is treated as absent: it cannot tell two incarnations of a policy apart.
  if (object.meta.uuid) return object.meta.uuid;
  if (!Number.isSafeInteger(createRevision) || createRevision < 1) {
    throw new RangeError(
      `a policy without meta.uuid needs its create revision, got ${createRevision}`,
    );
  }
  return String(createRevision);
}

function readResource(value: unknown): string {
  const resource = expectString(value, 'spec.resource');
  if (resource.includes('/')) {
    throw new ValidationError('spec.resource', `${quote(resource)} must not contain "/"`);
  }
  if (!isManagedKind(resource)) {
    throw new ValidationError(
      'spec.resource',
      `${quote(resource)} is one of alertmgr's own kinds, not a managed object kind`,
    );
  }
  return resource;
}

function readDuration(value: unknown, field: string, fallback: number): number {
  return isAbsent(value) ? fallback : parseDuration(value, field);
}

/**
 * Destination names, in order, each once: naming a destination twice must not send every
 * notification to it twice.
 */
function readDestinations(value: unknown): string[] {
  if (isAbsent(value)) return [];

  const names = expectArray(value, 'spec.destinations').map((entry, index) => {
    const field = `spec.destinations[${index}]`;
    const name = expectString(entry, field);
    if (name.includes('/')) throw new ValidationError(field, `${quote(name)} must not contain "/"`);
    return name;
  });
  return [...new Set(names)];
}
