import type { Clock, Timer } from '../clock.js';

/**
 * Deadlines keyed by name (persistence and clear delays of alerts), with one clock timer for
 * the earliest. Setting a name again replaces its deadline; a min-heap with lazy removal keeps
 * both cheap when tens of thousands of alerts are waiting at once.
 */
export class Deadlines {
  private readonly heap: Array<{ due: number; name: string; seq: number }> = [];
  private readonly live = new Map<string, { due: number; seq: number }>();
  private seq = 0;
  private timer: Timer | undefined;
  private timerDue = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: (names: string[]) => void,
  ) {}

  set(name: string, due: number): void {
    const seq = ++this.seq;
    this.live.set(name, { due, seq });
    this.push({ due, name, seq });
    this.arm();
  }

  delete(name: string): void {
    this.live.delete(name);
  }

  has(name: string): boolean {
    return this.live.has(name);
  }

  /** When `name` is due, in clock milliseconds; undefined when it is not waiting. */
  due(name: string): number | undefined {
    return this.live.get(name)?.due;
  }

  get size(): number {
    return this.live.size;
  }

  /** Stops the clock timer; pending deadlines are dropped. */
  close(): void {
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.live.clear();
    this.heap.length = 0;
  }

  /** Fires every deadline that has passed. Called by the timer, and by tests directly. */
  fire(): void {
    this.timer = undefined;
    this.timerDue = Infinity;
    const now = this.clock.now();
    const due: string[] = [];
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const top = this.pop();
      const current = this.live.get(top.name);
      if (current && current.seq === top.seq) {
        this.live.delete(top.name);
        due.push(top.name);
      }
    }
    this.arm();
    if (due.length > 0) this.onDue(due);
  }

  private arm(): void {
    // Drop stale heads so the timer is set for a deadline that still counts.
    while (this.heap.length > 0 && this.live.get(this.heap[0]!.name)?.seq !== this.heap[0]!.seq) {
      this.pop();
    }
    const next = this.heap[0];
    if (!next || next.due >= this.timerDue) return;
    if (this.timer) this.clock.clearTimer(this.timer);
    this.timerDue = next.due;
    this.timer = this.clock.setTimer(Math.max(0, next.due - this.clock.now()), () => this.fire());
  }

  private push(entry: { due: number; name: string; seq: number }): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.due <= heap[i]!.due) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  }

  private pop(): { due: number; name: string; seq: number } {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]!.due < heap[m]!.due) m = l;
        if (r < heap.length && heap[r]!.due < heap[m]!.due) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  }
}
