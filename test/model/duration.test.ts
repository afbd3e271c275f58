import { describe, expect, it } from 'vitest';

import { formatDuration, parseDuration } from '../../src/model/index.js';
import { validationError } from './validation.js';

describe('parseDuration', () => {
  it.each([
    ['300ms', 300],
    ['2s', 2_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['0s', 0],
    ['0ms', 0],
    ['1.5s', 1_500],
    ['.5s', 500],
    ['1.s', 1_000],
    ['1h30m', 5_400_000],
    ['1m30s500ms', 90_500],
    ['2h0m', 7_200_000],
    ['1.5ms', 2],
    ['100000h', 360_000_000_000],
  ])('reads %j as %d ms', (text, expected) => {
    expect(parseDuration(text, 'spec.clearDuration')).toBe(expected);
  });

  it.each([
    ['', '""'],
    ['5', '"5"'],
    ['0', '"0"'],
    ['-5s', '"-5s"'],
    ['+5s', '"+5s"'],
    ['5x', '"5x"'],
    ['5S', '"5S"'],
    ['5 s', '"5 s"'],
    [' 5s', '" 5s"'],
    ['5s ', '"5s "'],
    ['ms', '"ms"'],
    ['1.5.5s', '"1.5.5s"'],
    ['1h-30m', '"1h-30m"'],
    ['1e3s', '"1e3s"'],
    ['5d', '"5d"'],
    ['5us', '"5us"'],
    [5, '5'],
    [true, 'true'],
    [{}, 'an object'],
    [['5s'], 'an array'],
  ])('rejects %j', (text, shown) => {
    const error = validationError(() => parseDuration(text, 'spec.clearDuration'));
    expect(error.field).toBe('spec.clearDuration');
    expect(error.message).toBe(
      `spec.clearDuration: invalid duration ${shown}: ` +
        'expected a number with a unit such as 300ms, 2s, 5m or 24h',
    );
  });

  it.each([undefined, null])('calls %j a missing value', (value) => {
    expect(validationError(() => parseDuration(value, 'x')).message).toBe('x: required');
  });

  it('rejects a duration too large to count in milliseconds', () => {
    const error = validationError(() => parseDuration('9999999999999999h', 'x'));
    expect(error.message).toBe('x: invalid duration "9999999999999999h": too large');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [300, '300ms'],
    [2_000, '2s'],
    [1_500, '1s500ms'],
    [300_000, '5m'],
    [5_400_000, '1h30m'],
    [86_400_000, '24h'],
    [90_061_001, '25h1m1s1ms'],
    [0.4, '0s'],
    [-2_000, '-2s'],
  ])('formats %d ms as %j', (ms, expected) => {
    expect(formatDuration(ms)).toBe(expected);
  });

  it.each([0, 1, 999, 1_000, 61_001, 5_400_000, 90_061_001])('round-trips %d ms', (ms) => {
    expect(parseDuration(formatDuration(ms), 'x')).toBe(ms);
  });

  it('refuses a value that is not finite', () => {
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
  });
});
