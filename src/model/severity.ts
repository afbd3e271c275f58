import { ValidationError } from '../errors.js';
import { describeType, quote } from './json.js';

export const SEVERITIES = ['info', 'warn', 'critical'] as const;

export type Severity = (typeof SEVERITIES)[number];

export function isSeverity(value: unknown): value is Severity {
  return (SEVERITIES as readonly unknown[]).includes(value);
}

/** Reads a severity, case-sensitive like operator names; throws naming `field` otherwise. */
export function parseSeverity(value: unknown, field: string): Severity {
  if (isSeverity(value)) return value;
  const expected = `expected one of ${SEVERITIES.join(', ')}`;
  if (typeof value !== 'string') {
    throw new ValidationError(field, `${expected}, got ${describeType(value)}`);
  }
  throw new ValidationError(field, `unknown severity ${quote(value)}; ${expected}`);
}
