/**
 * Everything the bench starts (etcd, daemons, temp folders, clients) registers how to undo
 * it here. Teardown runs in reverse order on a normal end, on an error and on Ctrl-C, and
 * at most once per entry, so an interrupted run leaves no process or folder behind.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; undo: () => Promise<void> | void }> = [];
  private running: Promise<void> | undefined;
  /** Set on SIGINT or SIGTERM: the runner starts nothing new and reports nothing. */
  interrupted = false;

  /** Registers an undo step; the returned function runs it now and unregisters it. */
  add(what: string, undo: () => Promise<void> | void): () => Promise<void> {
    const step = { what, undo };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await step.undo();
    };
  }

  /** Runs every remaining step, newest first; a failing step does not stop the others. */
  runAll(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          await step.undo();
        } catch (err) {
          process.stderr.write(`cleanup: ${step.what} failed: ${String(err)}\n`);
        }
      }
    })();
    return this.running;
  }

  /**
   * On SIGINT or SIGTERM: tears everything down, then exits 130 (143). A second signal
   * while tearing down exits at once.
   */
  onSignals(before: () => void): void {
    let stopping = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (stopping) process.exit(1);
        stopping = true;
        this.interrupted = true;
        before();
        process.stderr.write(`\n${signal}: stopping the daemon and etcd, removing temp files\n`);
        void this.runAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
      });
    }
  }
}
