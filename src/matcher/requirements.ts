import { ValidationError } from '../errors.js';
import type { MatchedRequirement } from '../model/alert.js';
import {
  describeType,
  expectArray,
  expectObject,
  expectString,
  isAbsent,
  quote,
} from '../model/json.js';
import {
  createCheck,
  isOperator,
  isRelational,
  OPERATORS,
  type Check,
  type Operator,
} from './operators.js';
import { parsePath } from './path.js';
import { scalarText } from './scalars.js';

/** One requirement after validation: `values` are all strings. */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: readonly string[];
}

/**
 * A policy's requirements, compiled once and then applied to many managed objects.
 * `match` gives one entry per requirement, in order, when all of them hold, and undefined
 * as soon as one does not.
 */
export interface Matcher {
  readonly requirements: readonly Requirement[];
  match(document: unknown): MatchedRequirement[] | undefined;
}

/**
 * Validates and compiles a policy's `requirements`. Every problem is a ValidationError
 * naming the field, such as `spec.requirements[0].operator`.
 */
export function compileRequirements(requirements: unknown, field = 'spec.requirements'): Matcher {
  const list = expectArray(requirements, field);
  if (list.length === 0) throw new ValidationError(field, 'must hold at least one requirement');

  const compiled = list.map((entry, index) => compileRequirement(entry, `${field}[${index}]`));
  return new RequirementMatcher(compiled);
}

interface CompiledRequirement {
  readonly requirement: Requirement;
  readonly check: Check;
}

function compileRequirement(entry: unknown, field: string): CompiledRequirement {
  const object = expectObject(entry, field);

  const key = expectString(object.key, `${field}.key`);
  const path = parsePath(key, `${field}.key`);
  const operator = readOperator(object.operator, `${field}.operator`);
  const values = readValues(object.values, `${field}.values`);
  if (isRelational(operator) && values.length !== 1) {
    throw new ValidationError(
      `${field}.values`,
      `operator "${operator}" takes exactly one value, got ${values.length}`,
    );
  }

  const requirement: Requirement = { key, operator, values: Object.freeze(values) };
  return { requirement, check: createCheck(path, operator, values) };
}

function readOperator(value: unknown, field: string): Operator {
  const expected = `expected one of ${OPERATORS.join(', ')}`;
  if (isAbsent(value)) throw new ValidationError(field, `required; ${expected}`);
  if (typeof value !== 'string') {
    throw new ValidationError(field, `${expected}, got ${describeType(value)}`);
  }
  if (!isOperator(value)) {
    throw new ValidationError(field, `unknown operator ${quote(value)}; ${expected}`);
  }
  return value;
}

/** Entries are strings; numbers and booleans, as YAML writes them unquoted, become text. */
function readValues(value: unknown, field: string): string[] {
  const list = expectArray(value, field);
  if (list.length === 0) throw new ValidationError(field, 'must hold at least one value');

  return list.map((entry, index) => {
    if (typeof entry === 'string' || typeof entry === 'number' || typeof entry === 'boolean') {
      return scalarText(entry);
    }
    throw new ValidationError(
      `${field}[${index}]`,
      `expected a string, number or boolean, got ${describeType(entry)}`,
    );
  });
}

class RequirementMatcher implements Matcher {
  readonly requirements: readonly Requirement[];

  constructor(private readonly compiled: readonly CompiledRequirement[]) {
    this.requirements = Object.freeze(compiled.map((entry) => entry.requirement));
  }

  match(document: unknown): MatchedRequirement[] | undefined {
    // Checks run first and the result is built only once all hold: most objects match no
    // policy, and they then cost no allocation at all.
    for (const { check } of this.compiled) {
      if (!check.holds(document)) return undefined;
    }

    return this.compiled.map(({ requirement, check }) => ({
      key: requirement.key,
      operator: requirement.operator,
      values: [...requirement.values],
      observedValue: check.observed === undefined ? '' : scalarText(check.observed),
    }));
  }
}
