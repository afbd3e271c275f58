import { describe, expect, it } from 'vitest';

import { isScalar, parseNumber, ValueSet } from '../../src/matcher/index.js';

describe('parseNumber', () => {
  it.each([
    ['5', 5],
    ['5.0', 5],
    ['-2.5', -2.5],
    ['+3', 3],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['007', 7],
  ])('reads %j as %d', (text, expected) => {
    expect(parseNumber(text)).toBe(expected);
  });

  it.each([
    '',
    ' ',
    ' 5',
    '5 ',
    '0x10',
    '1_000',
    'Infinity',
    'NaN',
    '1e999',
    '5px',
    '.',
    '-',
    'e5',
  ])('refuses %j', (text) => {
    expect(parseNumber(text)).toBeUndefined();
  });
});

describe('ValueSet', () => {
  const set = new ValueSet(['down', '5.0', 'true', '-0']);

  it.each([
    ['down', true],
    ['Down', false],
    [5, true],
    ['5', false],
    ['5.0', true],
    [0, true],
    [true, true],
    [false, false],
    [6, false],
  ])('%j → %j', (value, expected) => {
    expect(set.has(value)).toBe(expected);
  });
});

describe('isScalar', () => {
  it.each([
    ['a', true],
    [0, true],
    [false, true],
    [null, false],
    [undefined, false],
    [{}, false],
    [[], false],
  ])('%j → %j', (value, expected) => {
    expect(isScalar(value)).toBe(expected);
  });
});
