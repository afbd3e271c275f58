import type { Clock, Timer } from '../../../src/clock.js';

/** A clock that moves only when the test says so; due timers fire inside `advance`. */
export class ManualClock implements Clock {
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(private current = Date.parse('2024-05-01T10:00:00.000Z')) {}

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimer(timer: Timer): void {
    this.timers.delete(timer.id as number);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= target)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.current = due[1].at;
      due[1].fn();
    }
    this.current = target;
  }
}
