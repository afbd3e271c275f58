#!/usr/bin/env node
// The CLI entry point: the TypeScript sources are compiled to dist/ by `npm ci` (prepare).
import { main } from '../dist/cli/index.js';

// A reader that stops early (`alertmgr get alerts | head`) is not an error worth a trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await main(process.argv.slice(2));
