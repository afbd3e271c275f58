/**
 * The scalar values a requirement key yields, and the equality rules of the contract:
 *
 * - a JSON number equals an entry that reads as the same finite number (`5` equals "5.0");
 * - a JSON boolean equals "true" or "false";
 * - a string equals an entry only when the two are the same text, case-sensitive.
 *
 * Numeric equality is for JSON numbers only, as the contract says: the string "5" equals "5"
 * but not "5.0". A producer that writes numbers as strings means them as text, and treating
 * them as numbers would make `equals ["007"]` match "7".
 */

export type Scalar = string | number | boolean;

/** Receives the values a path yields, one at a time; returning true stops the walk. */
export interface Visitor {
  visit(value: Scalar): boolean;
}

export function isScalar(value: unknown): value is Scalar {
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean';
}

/** The text a scalar is recorded as: numbers as JavaScript prints them, booleans as words. */
export function scalarText(value: Scalar): string {
  return String(value);
}

// Plain decimal notation only. `Number()` alone would also accept "", " 5", "0x10" and
// "Infinity", none of which a user means as a number in a requirement.
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Reads a decimal number such as "5", "-2.5" or "1e3"; anything else gives undefined. */
export function parseNumber(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The entries of a `values` list, indexed once when a policy is compiled so that testing a
 * yielded value is one set lookup however many entries there are.
 */
export class ValueSet implements Visitor {
  private readonly texts: ReadonlySet<string>;
  private readonly numbers: ReadonlySet<number>;

  constructor(entries: readonly string[]) {
    this.texts = new Set(entries);
    const numbers = new Set<number>();
    for (const entry of entries) {
      const value = parseNumber(entry);
      if (value !== undefined) numbers.add(value);
    }
    this.numbers = numbers;
  }

  /** Whether the value equals some entry under the rules above. */
  has(value: Scalar): boolean {
    if (typeof value === 'string') return this.texts.has(value);
    if (typeof value === 'number') return this.numbers.has(value);
    return this.texts.has(value ? 'true' : 'false');
  }

  /** As a visitor it stops at the first equal value, which is all an array filter needs. */
  visit(value: Scalar): boolean {
    return this.has(value);
  }
}
