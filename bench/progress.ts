/**
 * The one progress line on stderr. On a terminal it is rewritten in place a few times a
 * second; into a file or pipe it is written as a plain line at most every few seconds, so
 * a CI log stays readable.
 */
export class Progress {
  private lastAt = 0;
  private shown = '';
  private readonly tty: boolean;
  private readonly started = Date.now();

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** Shows `text` as the current state; cheap to call often (it throttles itself). */
  update(text: string): void {
    if (this.quiet) return;
    const now = Date.now();
    if (now - this.lastAt < (this.tty ? 250 : 5_000)) return;
    this.lastAt = now;
    const line = `[${this.elapsed()}] ${text}`;
    if (this.tty) {
      const width = Math.max(20, (this.out.columns ?? 100) - 1);
      this.out.write(`\r${line.slice(0, width).padEnd(Math.min(width, this.shown.length))}`);
      this.shown = line.slice(0, width);
    } else {
      this.out.write(`${line}\n`);
    }
  }

  /** Writes a permanent line (a scenario's result), keeping the progress line below it. */
  log(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.out.write(`[${this.elapsed()}] ${text}\n`);
    this.lastAt = 0;
  }

  clear(): void {
    if (this.tty && this.shown) this.out.write(`\r${' '.repeat(this.shown.length)}\r`);
    this.shown = '';
  }

  private elapsed(): string {
    const s = Math.floor((Date.now() - this.started) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }
}
