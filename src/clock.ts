/**
 * Time as the lifecycle code sees it. Production uses the system clock; tests inject a
 * manual one so timer logic (persistence, clear, GC) runs without sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a handle for `clearTimer`. */
  setTimer(ms: number, fn: () => void): Timer;
  clearTimer(timer: Timer): void;
}

export interface Timer {
  readonly id: unknown;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const handle = setTimeout(fn, Math.max(0, Math.min(ms, 2_147_483_647)));
    handle.unref?.();
    return { id: handle };
  },
  clearTimer: (timer) => clearTimeout(timer.id as NodeJS.Timeout),
};

/** RFC 3339 text of a clock reading, as alerts and logs carry it. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
