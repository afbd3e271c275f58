import { expect } from 'vitest';

import type { Store } from '../../src/store/index.js';
import { waitFor } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import { alertmgr, exitWithin, httpGet, type Proc } from './child.js';
import { NODE_YAML, POLICY_YAML, stored, uniquePrefix } from './fixtures.js';
import type { CliResult } from './harness.js';

/*
 * `alertmgr run` as a child process, for the tests of its settings file and of secured etcd
 * connections: start it, wait for an endpoint, see an alert open, stop it.
 */

export interface Running {
  readonly proc: Proc;
  readonly port: number;
  readonly prefix: string;
}

/** `run` on its own HTTP port and prefix, with `args` and `env` on top. */
export async function startRun(
  label: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Running> {
  const port = await freePort();
  const prefix = uniquePrefix(label);
  const proc = alertmgr(
    [
      'run',
      '--http',
      `127.0.0.1:${port}`,
      '--prefix',
      prefix,
      '--state-prefix',
      `/state${prefix}`,
      ...args,
    ],
    env,
  );
  return { proc, port, prefix };
}

/** Waits until `path` answers `expected`; fails early when the process has exited. */
export function answers(run: Pick<Running, 'proc' | 'port'>, path: string, expected: number) {
  return waitFor(
    async () => {
      if (!run.proc.running()) throw new Error(`alertmgr exited; stderr: ${run.proc.stderr()}`);
      return (await httpGet(run.port, path))?.status === expected;
    },
    { timeoutMs: 20_000, what: `${path} to answer ${expected}` },
  );
}

/**
 * Applies a critical policy and a node that matches it with `cli`, and waits for the daemon
 * to open the alert, read back through `store`.
 */
export async function opensAlert(
  run: Running,
  cli: (args: string[], options?: { stdin?: string }) => Promise<CliResult>,
  store: Store,
): Promise<void> {
  const down = NODE_YAML.replace('health: up', 'health: down');
  const applied = await cli(['apply', '-f', '-'], { stdin: `${POLICY_YAML}---\n${down}` });
  expect(applied.code, applied.stderr).toBe(0);

  const alert = await waitFor(
    async () => {
      if (!run.proc.running()) throw new Error(`alertmgr exited; stderr: ${run.proc.stderr()}`);
      const page = await store.list(`${run.prefix}/Alert/default/`);
      return page.items[0];
    },
    { timeoutMs: 15_000, what: 'the alert' },
  );
  expect(await stored(store, alert.key)).toMatchObject({
    spec: { state: 'open' },
    status: { objectRef: { kind: 'Node', tenant: 'default', name: 'n1' } },
  });
}

/** SIGTERM, then exit 0 within the contract's 10 s. */
export async function stopsCleanly(proc: Proc): Promise<void> {
  proc.child.kill('SIGTERM');
  const exit = await exitWithin(proc, 12_000);
  expect(exit, `stderr: ${proc.stderr()}`).toMatchObject({ code: 0, signal: null });
}

/** The JSON log lines on stdout; a line that is not JSON fails the test. */
export function logLines(proc: Proc): Array<Record<string, any>> {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}
