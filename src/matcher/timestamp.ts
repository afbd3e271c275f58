/**
 * RFC 3339 timestamps (`2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.5+02:00`), read without
 * a regular expression or a Date because relational requirements parse one per object.
 * Precision is kept to the nanosecond, as Go and etcd tooling write them; `Date.parse`
 * would drop everything below the millisecond and accept many non-RFC 3339 forms.
 */

export interface Timestamp {
  /** Whole seconds since the Unix epoch, UTC. */
  readonly seconds: number;
  /** Nanoseconds within that second, 0 to 999,999,999. */
  readonly nanos: number;
}

const SECONDS_PER_DAY = 86_400;
// 400 Gregorian years are exactly 146,097 days; see `epochSeconds`.
const FOUR_CENTURIES_SECONDS = 146_097 * SECONDS_PER_DAY;

/** Parses an RFC 3339 date-time; anything else, including an impossible date, is undefined. */
export function parseTimestamp(text: string): Timestamp | undefined {
  // The shortest form is "YYYY-MM-DDTHH:MM:SSZ".
  if (text.length < 20) return undefined;
  if (!separatorsAt(text)) return undefined;

  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 0 || month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  // RFC 3339 allows second 60 for a leap second; it counts as the next minute's first second.
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) {
    return undefined;
  }

  let position = 19;
  let nanos = 0;
  if (text[position] === '.') {
    const start = ++position;
    while (isDigit(text.charCodeAt(position))) position++;
    if (position === start) return undefined;
    // Digits beyond the ninth are below a nanosecond and are dropped.
    const kept = Math.min(position - start, 9);
    nanos = digits(text, start, kept) * 10 ** (9 - kept);
  }

  const offset = zoneOffsetSeconds(text, position);
  if (offset === undefined) return undefined;

  const seconds = epochSeconds(year, month, day) + hour * 3600 + minute * 60 + second - offset;
  return { seconds, nanos };
}

/** Negative when a is earlier than b, positive when later, 0 when the same instant. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

function separatorsAt(text: string): boolean {
  const t = text[10];
  return (
    text[4] === '-' &&
    text[7] === '-' &&
    (t === 'T' || t === 't') &&
    text[13] === ':' &&
    text[16] === ':'
  );
}

/** Reads the zone, `Z` or `±HH:MM`, which must end the text. */
function zoneOffsetSeconds(text: string, position: number): number | undefined {
  const sign = text[position];
  if (sign === 'Z' || sign === 'z') return position + 1 === text.length ? 0 : undefined;
  if (sign !== '+' && sign !== '-') return undefined;
  if (position + 6 !== text.length || text[position + 3] !== ':') return undefined;

  const hours = digits(text, position + 1, 2);
  const minutes = digits(text, position + 4, 2);
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return undefined;
  const offset = hours * 3600 + minutes * 60;
  return sign === '+' ? offset : -offset;
}

/**
 * Date.UTC maps years 0 to 99 onto 1900 to 1999, so the date is moved four centuries later,
 * which leaves the calendar unchanged, and the shift is taken off again.
 */
function epochSeconds(year: number, month: number, day: number): number {
  return Date.UTC(year + 400, month - 1, day) / 1000 - FOUR_CENTURIES_SECONDS;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The decimal value of `count` digits at `start`, or -1 when one of them is not a digit. */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index++) {
    const code = text.charCodeAt(index);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}
