/**
 * A small seeded pseudo-random source, so the demo's fleet and the order of its faults are the
 * same on every run with the same seed. It is xorshift32: plenty for picking sample objects,
 * and in no way suitable for anything that needs real randomness.
 */
export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** A whole number in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One entry of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

export function createRandom(seed: number): Random {
  let state = scramble(seed);

  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));

  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('cannot pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
  };
}

/**
 * Spreads the bits of a seed, because xorshift started from a small number such as 1 or 2
 * gives nearly the same first outputs; and never returns 0, which xorshift cannot leave.
 */
function scramble(seed: number): number {
  let s = Math.trunc(seed) >>> 0;
  s = Math.imul(s ^ (s >>> 16), 0x45d9f3b);
  s = Math.imul(s ^ (s >>> 16), 0x45d9f3b);
  s ^= s >>> 16;
  return s === 0 ? 0x2545f491 : s;
}
