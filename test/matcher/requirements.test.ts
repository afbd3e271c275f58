import { describe, expect, it } from 'vitest';

import { compileRequirements } from '../../src/matcher/index.js';
import { validationError } from '../model/validation.js';

/** Whether one requirement holds for the document. */
function holds(document: unknown, operator: string, values: unknown[], key = 'v'): boolean {
  return compileRequirements([{ key, operator, values }]).match(document) !== undefined;
}

/** The observedValue recorded for one requirement, or undefined when it does not hold. */
function observed(document: unknown, operator: string, values: unknown[], key = 'v') {
  return compileRequirements([{ key, operator, values }]).match(document)?.[0]?.observedValue;
}

describe('equality (equals, in)', () => {
  it.each([
    ['same string', 'down', ['down'], true],
    ['other string', 'up', ['down'], false],
    ['case differs', 'Down', ['down'], false],
    ['empty string entry', '', [''], true],
    ['number and its text', 5, ['5'], true],
    ['number and another spelling', 5, ['5.0'], true],
    ['number and exponent spelling', 500, ['5e2'], true],
    ['negative number', -1.5, ['-1.5'], true],
    ['number entry written as a number', 5, [5], true],
    ['number and another number', 5, ['6'], false],
    ['number and text', 5, ['five'], false],
    ['number and hexadecimal', 16, ['0x10'], false],
    ['numeric string and the same text', '5', ['5'], true],
    ['numeric string and another spelling', '5', ['5.0'], false],
    ['numeric string and a number entry', '5.0', [5], false],
    ['true and "true"', true, ['true'], true],
    ['true written as a boolean entry', true, [true], true],
    ['false and "false"', false, ['false'], true],
    ['true and "True"', true, ['True'], false],
    ['true and "1"', true, ['1'], false],
    ['string "true" and "true"', 'true', ['true'], true],
    ['timestamps compare as text', '2024-01-01T00:00:00Z', ['2024-01-01T02:00:00+02:00'], false],
  ])('%s: %j in %j → %j', (_case, value, values, expected) => {
    expect(holds({ v: value }, 'equals', values)).toBe(expected);
    expect(holds({ v: value }, 'in', values)).toBe(expected);
  });

  it.each([
    ['absent field', {}, false],
    ['null', { v: null }, false],
    ['object', { v: { down: 'down' } }, false],
    ['empty array', { v: [] }, false],
    ['array with a match', { v: ['up', 'down'] }, true],
    ['nested array with a match', { v: [['up'], [['down']]] }, true],
    ['array without a match', { v: ['up', null] }, false],
  ])('%s', (_case, document, expected) => {
    expect(holds(document, 'equals', ['down'])).toBe(expected);
  });

  it('holds when any value equals any entry', () => {
    expect(holds({ v: ['a', 'b'] }, 'in', ['c', 'b'])).toBe(true);
    expect(observed({ v: ['a', 'b', 'c'] }, 'in', ['c', 'b'])).toBe('b');
  });
});

describe('inequality (notEquals, notIn)', () => {
  it.each([
    ['other string', { v: 'up' }, ['down'], true],
    ['same string', { v: 'down' }, ['down'], false],
    ['number and another spelling', { v: 5 }, ['5.0'], false],
    ['numeric string and another spelling', { v: '5' }, ['5.0'], true],
    ['boolean', { v: false }, ['true'], true],
    ['absent field', {}, ['down'], false],
    ['null', { v: null }, ['down'], false],
    ['empty array', { v: [] }, ['down'], false],
    ['array of nulls', { v: [null, {}] }, ['down'], false],
    ['array without a match', { v: ['a', 'b'] }, ['c', 'd'], true],
    ['array with one match', { v: ['a', 'b'] }, ['b', 'd'], false],
  ])('%s', (_case, document, values, expected) => {
    expect(holds(document, 'notEquals', values)).toBe(expected);
    expect(holds(document, 'notIn', values)).toBe(expected);
  });

  it('records the first yielded value', () => {
    expect(observed({ v: ['a', 'b'] }, 'notIn', ['c'])).toBe('a');
    expect(observed({ v: [null, 7, 'b'] }, 'notEquals', ['c'])).toBe('7');
  });
});

describe('relational (gt, gte, lt, lte)', () => {
  it.each([
    ['gt', 6, '5', true],
    ['gt', 5, '5', false],
    ['gt', 5, '5.0', false],
    ['gte', 5, '5.0', true],
    ['lt', 4.99, '5', true],
    ['lt', 5, '5', false],
    ['lte', 5, '5', true],
    ['lte', 6, '5', false],
    ['gt', -1, '-2', true],
    ['gt', 1e21, '1e20', true],
    ['gt', '10', '9', true],
    ['gt', '10', 9, true],
    ['lt', '10', '9', false],
    ['gt', ' 10', '9', false],
    ['gt', 'abc', '9', false],
    ['gt', '', '0', false],
    ['gt', true, '0', false],
    ['lt', false, '1', false],
    ['gt', 10, 'abc', false],
    ['lt', 'abc', 'abd', false],
    ['gt', 10, '2024-01-01T00:00:00Z', false],
    ['gt', '2024-01-01T00:00:00Z', '5', false],
    ['gt', '2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z', true],
    ['lt', '2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z', false],
    ['gte', '2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00Z', true],
    ['lte', '2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00Z', true],
    ['gt', '2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00Z', false],
    ['lt', '2024-01-01T01:59:59+02:00', '2024-01-01T00:00:00Z', true],
    ['gt', '2023-12-31T20:00:01-04:00', '2024-01-01T00:00:00Z', true],
    ['gt', '2024-01-01T00:00:00.000000002Z', '2024-01-01T00:00:00.000000001Z', true],
    ['gt', '2024-01-01 00:00:01Z', '2024-01-01T00:00:00Z', false],
    ['gt', '2024-02-30T00:00:00Z', '2024-01-01T00:00:00Z', false],
  ])('%s: %j against %j → %j', (operator, value, entry, expected) => {
    expect(holds({ v: value }, operator, [entry])).toBe(expected);
  });

  it.each([
    ['absent field', {}],
    ['null', { v: null }],
    ['empty array', { v: [] }],
  ])('does not hold for %s', (_case, document) => {
    for (const operator of ['gt', 'gte', 'lt', 'lte']) {
      expect(holds(document, operator, ['0'])).toBe(false);
    }
  });

  it('holds when some yielded value compares true, and records the first such value', () => {
    expect(observed({ v: [1, 'x', 7, 9] }, 'gt', ['5'])).toBe('7');
    expect(
      observed({ v: ['2020-01-01T00:00:00Z', '2030-01-01T00:00:00Z'] }, 'gt', [
        '2025-01-01T00:00:00Z',
      ]),
    ).toBe('2030-01-01T00:00:00Z');
  });
});

describe('match results', () => {
  const matcher = compileRequirements([
    { key: 'status.health', operator: 'equals', values: ['down', 'degraded'] },
    { key: 'status.conditions[type=disk].free', operator: 'lt', values: [10] },
    { key: 'meta.labels["app.kubernetes.io/name"]', operator: 'notIn', values: ['test'] },
  ]);
  const document = {
    meta: { labels: { 'app.kubernetes.io/name': 'db' } },
    status: {
      health: ['ok', 'degraded'],
      conditions: [
        { type: 'cpu', free: 1 },
        { type: 'disk', free: 2.5 },
      ],
    },
  };

  it('gives one entry per requirement, in order, with values as text', () => {
    expect(matcher.match(document)).toEqual([
      {
        key: 'status.health',
        operator: 'equals',
        values: ['down', 'degraded'],
        observedValue: 'degraded',
      },
      {
        key: 'status.conditions[type=disk].free',
        operator: 'lt',
        values: ['10'],
        observedValue: '2.5',
      },
      {
        key: 'meta.labels["app.kubernetes.io/name"]',
        operator: 'notIn',
        values: ['test'],
        observedValue: 'db',
      },
    ]);
  });

  it('gives undefined as soon as one requirement does not hold', () => {
    expect(
      matcher.match({ ...document, meta: { labels: { 'app.kubernetes.io/name': 'test' } } }),
    ).toBeUndefined();
    expect(matcher.match({})).toBeUndefined();
  });

  it('records numbers and booleans as JavaScript prints them', () => {
    expect(observed({ v: 5.0 }, 'equals', ['5'])).toBe('5');
    expect(observed({ v: 1e21 }, 'gt', ['1'])).toBe('1e+21');
    expect(observed({ v: true }, 'equals', ['true'])).toBe('true');
  });

  it('gives fresh arrays, so a caller cannot change the compiled policy', () => {
    const first = matcher.match(document);
    first?.[0]?.values.push('mutated');
    expect(matcher.match(document)?.[0]?.values).toEqual(['down', 'degraded']);
    expect(matcher.requirements[0]?.values).toEqual(['down', 'degraded']);
  });

  it('keeps no state from one document to the next', () => {
    const notIn = compileRequirements([{ key: 'v', operator: 'notIn', values: ['x'] }]);
    expect(notIn.match({ v: 'x' })).toBeUndefined();
    expect(notIn.match({ v: 'y' })?.[0]?.observedValue).toBe('y');
    expect(notIn.match({})).toBeUndefined();
  });

  it('exposes the normalised requirements', () => {
    expect(
      compileRequirements([{ key: 'a', operator: 'in', values: [1, false, 'x'], extra: 1 }])
        .requirements,
    ).toEqual([{ key: 'a', operator: 'in', values: ['1', 'false', 'x'] }]);
  });
});

describe('compileRequirements validation', () => {
  const ok = { key: 'status.health', operator: 'equals', values: ['down'] };

  it.each([
    ['absent', undefined, 'spec.requirements', 'spec.requirements: required'],
    [
      'not an array',
      { key: 'a' },
      'spec.requirements',
      'spec.requirements: expected an array, got an object',
    ],
    ['empty', [], 'spec.requirements', 'spec.requirements: must hold at least one requirement'],
    [
      'entry not an object',
      [ok, 'a=b'],
      'spec.requirements[1]',
      'spec.requirements[1]: expected an object, got a string',
    ],
    [
      'missing key',
      [{ ...ok, key: undefined }],
      'spec.requirements[0].key',
      'spec.requirements[0].key: required',
    ],
    [
      'empty key',
      [{ ...ok, key: '' }],
      'spec.requirements[0].key',
      'spec.requirements[0].key: must not be empty',
    ],
    [
      'key not text',
      [{ ...ok, key: 5 }],
      'spec.requirements[0].key',
      'spec.requirements[0].key: expected a string, got a number',
    ],
    [
      'unclosed bracket',
      [{ ...ok, key: 'a[b' }],
      'spec.requirements[0].key',
      'spec.requirements[0].key: invalid key "a[b": unclosed "[" at offset 1',
    ],
    [
      'missing operator',
      [{ ...ok, operator: undefined }],
      'spec.requirements[0].operator',
      'spec.requirements[0].operator: required; expected one of equals, notEquals, in, notIn, gt, gte, lt, lte',
    ],
    [
      'operator in the wrong case',
      [ok, ok, { ...ok, operator: 'Equals' }],
      'spec.requirements[2].operator',
      'spec.requirements[2].operator: unknown operator "Equals"; expected one of equals, notEquals, in, notIn, gt, gte, lt, lte',
    ],
    [
      'unknown operator',
      [{ ...ok, operator: 'exists' }],
      'spec.requirements[0].operator',
      'spec.requirements[0].operator: unknown operator "exists"; expected one of equals, notEquals, in, notIn, gt, gte, lt, lte',
    ],
    [
      'operator not text',
      [{ ...ok, operator: 1 }],
      'spec.requirements[0].operator',
      'spec.requirements[0].operator: expected one of equals, notEquals, in, notIn, gt, gte, lt, lte, got a number',
    ],
    [
      'missing values',
      [{ ...ok, values: undefined }],
      'spec.requirements[0].values',
      'spec.requirements[0].values: required',
    ],
    [
      'values not an array',
      [{ ...ok, values: 'down' }],
      'spec.requirements[0].values',
      'spec.requirements[0].values: expected an array, got a string',
    ],
    [
      'empty values',
      [{ ...ok, values: [] }],
      'spec.requirements[0].values',
      'spec.requirements[0].values: must hold at least one value',
    ],
    [
      'null value',
      [{ ...ok, values: ['a', null] }],
      'spec.requirements[0].values[1]',
      'spec.requirements[0].values[1]: expected a string, number or boolean, got null',
    ],
    [
      'object value',
      [{ ...ok, values: [{}] }],
      'spec.requirements[0].values[0]',
      'spec.requirements[0].values[0]: expected a string, number or boolean, got an object',
    ],
    ...['gt', 'gte', 'lt', 'lte'].map((operator): [string, unknown, string, string] => [
      `${operator} with two values`,
      [{ ...ok, operator, values: ['1', '2'] }],
      'spec.requirements[0].values',
      `spec.requirements[0].values: operator "${operator}" takes exactly one value, got 2`,
    ]),
  ])('rejects %s', (_case, requirements, field, message) => {
    const error = validationError(() => compileRequirements(requirements));
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });

  it('names the field it is given', () => {
    const error = validationError(() => compileRequirements([], 'requirements'));
    expect(error.message).toBe('requirements: must hold at least one requirement');
  });

  it('accepts a relational entry that is neither a number nor a timestamp, which never holds', () => {
    const matcher = compileRequirements([{ key: 'v', operator: 'gt', values: ['abc'] }]);
    expect(matcher.match({ v: 'abd' })).toBeUndefined();
    expect(matcher.match({ v: 5 })).toBeUndefined();
  });
});
