import { CommanderError } from 'commander';

import { EXIT_OK, EXIT_USAGE, exitCodeOf } from './errors.js';
import { processIo, writeLine, type Io } from './io.js';
import { buildProgram } from './program.js';

export type { Io } from './io.js';

/**
 * Runs one command line and returns its exit code: 0 success, 1 runtime failure (etcd
 * unreachable, an unknown object), 2 bad usage or invalid input. Failures are one line on
 * stderr naming what was wrong, never a stack trace. Nothing here exits the process.
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(io, (result) => {
    code = result;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    // Commander has already printed its message (or the help it was asked for).
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    writeLine(io.stderr, `error: ${err instanceof Error ? err.message : String(err)}`);
    return exitCodeOf(err);
  }
}
