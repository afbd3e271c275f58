import { PassThrough, Readable, Writable } from 'node:stream';

import { main } from '../../src/cli/index.js';

/** What one in-process command line produced. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: string;
}

/** Collects everything written to it. */
export class Capture extends Writable {
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * Runs `alertmgr <args>` in this process with its own streams and environment; nothing of
 * the test process (its env, its stdout) is read or changed.
 */
export async function cli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin =
    options.stdin === undefined ? new PassThrough().end() : Readable.from([options.stdin]);
  const code = await main(args, { stdout, stderr, stdin, env: options.env ?? {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A CLI bound to one etcd and one prefix, as most tests use it. */
export function cliFor(endpoint: string, prefix = '/objects') {
  return (args: string[], options: CliOptions = {}) =>
    cli([...args, '--etcd-endpoints', endpoint, '--prefix', prefix], options);
}

/** Parses a value stored by the CLI. */
export function json(value: Uint8Array | undefined): Record<string, any> {
  if (value === undefined) throw new Error('no value');
  return JSON.parse(Buffer.from(value).toString()) as Record<string, any>;
}
