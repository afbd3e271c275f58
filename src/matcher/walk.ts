import { isScalar, type Visitor } from './scalars.js';
import type { Step } from './path.js';

/**
 * Walks a document along a parsed path and hands every scalar it reaches to the visitor,
 * in document order, until the visitor asks to stop. Returns whether it was stopped.
 *
 * - An array met at any step, including the last, fans out: each element continues the walk
 *   with the same step, and nested arrays flatten.
 * - A property step reads own properties only, so names such as `constructor` or
 *   `__proto__` never reach into JavaScript's object prototype.
 * - A filter keeps an object when its filter path yields a value equal to the filter value;
 *   applied to a single object rather than an array, it keeps or drops that object.
 * - Only strings, numbers and booleans are yielded; null, objects and missing properties
 *   yield nothing.
 *
 * This runs for every object a policy is applied to, so it allocates nothing: no closures,
 * no intermediate arrays of values.
 *
 * Arrays nested deeper than MAX_DEPTH yield nothing below that depth. JSON.parse accepts
 * arrays nested hundreds of thousands deep, and following them all would overflow the stack
 * on one odd object; no real document nests arrays that far.
 */
export function walk(value: unknown, path: readonly Step[], visitor: Visitor): boolean {
  return walkFrom(value, path, 0, visitor, 0);
}

export const MAX_DEPTH = 256;

function walkFrom(
  value: unknown,
  path: readonly Step[],
  index: number,
  visitor: Visitor,
  depth: number,
): boolean {
  if (Array.isArray(value)) {
    if (depth >= MAX_DEPTH) return false;
    for (let element = 0; element < value.length; element++) {
      if (walkFrom(value[element], path, index, visitor, depth + 1)) return true;
    }
    return false;
  }

  const step = path[index];
  if (step === undefined) return isScalar(value) && visitor.visit(value);
  if (typeof value !== 'object' || value === null) return false;

  if (step.kind === 'property') {
    if (!Object.hasOwn(value, step.name)) return false;
    const child = (value as Record<string, unknown>)[step.name];
    return walkFrom(child, path, index + 1, visitor, depth);
  }

  if (!walkFrom(value, step.path, 0, step.equals, depth)) return false;
  return walkFrom(value, path, index + 1, visitor, depth);
}
