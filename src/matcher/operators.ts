import { parseNumber, ValueSet, type Scalar, type Visitor } from './scalars.js';
import { compareTimestamps, parseTimestamp, type Timestamp } from './timestamp.js';
import { walk } from './walk.js';
import type { Step } from './path.js';

/** Operator names, case-sensitive, in the order messages list them. */
export const OPERATORS = ['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte'] as const;

export type Operator = (typeof OPERATORS)[number];

export type RelationalOperator = 'gt' | 'gte' | 'lt' | 'lte';

export function isOperator(name: unknown): name is Operator {
  return (OPERATORS as readonly unknown[]).includes(name);
}

export function isRelational(operator: Operator): operator is RelationalOperator {
  return operator === 'gt' || operator === 'gte' || operator === 'lt' || operator === 'lte';
}

/**
 * One compiled requirement, applied to a document at a time. `holds` walks the document and
 * leaves in `observed` the value to record when it holds.
 *
 * A check keeps that per-document state on itself instead of allocating a result for every
 * document. That is safe because `holds` runs to completion synchronously and calls nothing
 * that could re-enter the same check.
 */
export abstract class Check implements Visitor {
  observed: Scalar | undefined;

  constructor(protected readonly path: readonly Step[]) {}

  abstract holds(document: unknown): boolean;

  abstract visit(value: Scalar): boolean;
}

/** `equals`, `in`: some yielded value equals some entry; the first such value is recorded. */
export class AnyEqualCheck extends Check {
  constructor(
    path: readonly Step[],
    private readonly entries: ValueSet,
  ) {
    super(path);
  }

  holds(document: unknown): boolean {
    this.observed = undefined;
    return walk(document, this.path, this);
  }

  visit(value: Scalar): boolean {
    if (!this.entries.has(value)) return false;
    this.observed = value;
    return true;
  }
}

/**
 * `notEquals`, `notIn`: at least one value is yielded and none equals an entry. A key that
 * yields nothing does not hold, so a missing field never opens a "not equal" alert.
 */
export class NoneEqualCheck extends Check {
  private clash = false;

  constructor(
    path: readonly Step[],
    private readonly entries: ValueSet,
  ) {
    super(path);
  }

  holds(document: unknown): boolean {
    this.observed = undefined;
    this.clash = false;
    walk(document, this.path, this);
    return !this.clash && this.observed !== undefined;
  }

  visit(value: Scalar): boolean {
    if (this.observed === undefined) this.observed = value;
    this.clash = this.entries.has(value);
    return this.clash;
  }
}

const ACCEPTS: Readonly<Record<RelationalOperator, (order: number) => boolean>> = {
  gt: (order) => order > 0,
  gte: (order) => order >= 0,
  lt: (order) => order < 0,
  lte: (order) => order <= 0,
};

/**
 * `gt`, `gte`, `lt`, `lte` against the single entry, read once here as a number and as a
 * timestamp. A yielded value compares numerically when it and the entry are both numbers
 * (a JSON number or a numeric string), else chronologically when both are RFC 3339
 * timestamps; any other pair, booleans included, does not compare and so does not hold.
 */
export class CompareCheck extends Check {
  private readonly number: number | undefined;
  private readonly time: Timestamp | undefined;
  private readonly accepts: (order: number) => boolean;

  constructor(path: readonly Step[], operator: RelationalOperator, entry: string) {
    super(path);
    this.number = parseNumber(entry);
    this.time = this.number === undefined ? parseTimestamp(entry) : undefined;
    this.accepts = ACCEPTS[operator];
  }

  holds(document: unknown): boolean {
    this.observed = undefined;
    return walk(document, this.path, this);
  }

  visit(value: Scalar): boolean {
    const order = this.order(value);
    if (order === undefined || !this.accepts(order)) return false;
    this.observed = value;
    return true;
  }

  /** How the value sorts against the entry, or undefined when the two do not compare. */
  private order(value: Scalar): number | undefined {
    if (typeof value === 'boolean') return undefined;

    if (this.number !== undefined) {
      const number = typeof value === 'number' ? value : parseNumber(value);
      if (number === undefined) return undefined;
      return number > this.number ? 1 : number < this.number ? -1 : 0;
    }
    if (this.time !== undefined && typeof value === 'string') {
      const time = parseTimestamp(value);
      return time === undefined ? undefined : compareTimestamps(time, this.time);
    }
    return undefined;
  }
}

/** Builds the check for one validated requirement. */
export function createCheck(path: readonly Step[], operator: Operator, values: string[]): Check {
  if (isRelational(operator)) return new CompareCheck(path, operator, values[0] ?? '');
  const entries = new ValueSet(values);
  return operator === 'equals' || operator === 'in'
    ? new AnyEqualCheck(path, entries)
    : new NoneEqualCheck(path, entries);
}
