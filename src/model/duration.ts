import { ValidationError } from '../errors.js';
import { describeType, quote } from './json.js';

/**
 * Durations are written the way Go and Kubernetes write them: one or more decimal numbers,
 * each with a unit, such as `300ms`, `2s`, `1.5s` or `1h30m`. They are held as milliseconds.
 *
 * A bare number is refused, even `0`: a unit-less value in a policy is far more often a
 * mistake (seconds? milliseconds?) than a deliberate zero, and `0s` says the same thing.
 * Units below a millisecond are not offered because nothing in alertmgr is that precise.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

// `ms` is listed before `m` so that the alternation never reads "5ms" as minutes.
const WHOLE = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)/g;

const EXPECTED = 'expected a number with a unit such as 300ms, 2s, 5m or 24h';

/** Parses a duration such as `2s` or `1h30m` into whole milliseconds (rounded). */
export function parseDuration(text: unknown, field: string): number {
  if (text === undefined || text === null) throw new ValidationError(field, 'required');
  if (typeof text !== 'string' || !WHOLE.test(text)) {
    throw new ValidationError(field, `invalid duration ${show(text)}: ${EXPECTED}`);
  }

  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }

  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) {
    throw new ValidationError(field, `invalid duration ${quote(text)}: too large`);
  }
  return ms;
}

function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}

const PARTS: ReadonlyArray<readonly [string, number]> = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/**
 * Formats milliseconds in the same notation `parseDuration` reads, largest unit first:
 * 5400000 → "1h30m", 1500 → "1s500ms", 0 → "0s". Fractions of a millisecond are rounded.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format duration ${ms}`);

  let rest = Math.round(Math.abs(ms));
  if (rest === 0) return '0s';

  let text = ms < 0 ? '-' : '';
  for (const [unit, size] of PARTS) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}
