import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';
import {
  alertmgr,
  buildOnce,
  exitWithin,
  httpGet,
  killAll,
  startEtcdOn,
  type Proc,
} from './child.js';
import { NODE_YAML, oneLineError, POLICY_YAML, stored, uniquePrefix } from './fixtures.js';
import { cliFor } from './harness.js';

/*
 * `alertmgr run` as a real process: its HTTP endpoints, its logs, its exit codes and its
 * signals, against this file's etcd.
 */

let etcd: EtcdServer;

beforeAll(async () => {
  // Both at once; etcd is kept even when the build fails, so afterAll can stop it.
  const starting = startEtcd();
  try {
    await buildOnce();
  } finally {
    etcd = await starting;
  }
}, 120_000);

afterEach(async () => {
  etcd?.signal('SIGCONT');
  await killAll();
});

afterAll(async () => {
  await etcd?.stop();
});

/** The contract's drain bound: a stop signal ends the process within 10 s. */
const STOP_MS = 10_000;

interface Running {
  readonly proc: Proc;
  readonly port: number;
  readonly prefix: string;
}

async function startRun(label: string, extra: string[] = [], endpoint = etcd.endpoint) {
  const port = await freePort();
  const prefix = uniquePrefix(label);
  const proc = alertmgr([
    'run',
    '--etcd-endpoints',
    endpoint,
    '--http',
    `127.0.0.1:${port}`,
    '--prefix',
    prefix,
    '--state-prefix',
    `/state${prefix}`,
    ...extra,
  ]);
  return { proc, port, prefix } satisfies Running;
}

async function status(port: number, path: string): Promise<number | undefined> {
  return (await httpGet(port, path))?.status;
}

/** Waits until `path` answers `expected`; fails early when the process has exited. */
function answers(run: Running, path: string, expected: number, timeoutMs = 20_000) {
  return waitFor(
    async () => {
      if (!run.proc.running()) {
        throw new Error(`alertmgr exited; stderr: ${run.proc.stderr()}`);
      }
      return (await status(run.port, path)) === expected;
    },
    { timeoutMs, what: `${path} to answer ${expected}` },
  );
}

/** Every line on stdout is one JSON object with a level, a time and a message. */
function logLines(proc: Proc): Array<Record<string, any>> {
  const lines = proc
    .stdout()
    .split('\n')
    .filter((line) => line !== '');
  return lines.map((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`stdout line is not JSON: ${line}`);
    }
    expect(parsed, line).toBeTypeOf('object');
    expect(parsed, line).toMatchObject({
      level: expect.any(String),
      time: expect.any(String),
      msg: expect.any(String),
    });
    expect(Number.isNaN(Date.parse((parsed as any).time)), line).toBe(false);
    return parsed as Record<string, any>;
  });
}

/** Sends `signal` and checks the process drains and exits 0 within the contract's bound. */
async function stopsCleanly(proc: Proc, signal: NodeJS.Signals): Promise<void> {
  const sent = Date.now();
  proc.child.kill(signal);
  const exit = await exitWithin(proc, STOP_MS + 2_000);
  expect(exit, `stderr: ${proc.stderr()}`).toMatchObject({ code: 0, signal: null });
  expect(exit.at - sent).toBeLessThan(STOP_MS);
}

describe('alertmgr run', () => {
  it('serves /healthz at once, /readyz 503 until the initial list is loaded then 200, and /metrics', async () => {
    // Paused etcd: the process starts, but its initial list cannot complete.
    etcd.signal('SIGSTOP');
    const run = await startRun('http');
    try {
      await answers(run, '/healthz', 200);
      expect(await status(run.port, '/readyz')).toBe(503);
    } finally {
      etcd.signal('SIGCONT');
    }
    await answers(run, '/readyz', 200, 30_000);
    expect(await status(run.port, '/healthz')).toBe(200);

    const metrics = await httpGet(run.port, '/metrics');
    expect(metrics?.status).toBe(200);
    expect(metrics!.contentType).toMatch(/^text\/plain/);
    expect(metrics!.body).toMatch(/^# HELP alertmgr_\w+ .+$/m);
    expect(metrics!.body).toMatch(/^# TYPE alertmgr_\w+ (counter|gauge|histogram|summary)$/m);
    expect(metrics!.body).toMatch(/^alertmgr_\w+(\{[^}]*\})? [-+0-9.eE]+$/m);

    expect(logLines(run.proc).length).toBeGreaterThan(0);
    await stopsCleanly(run.proc, 'SIGTERM');
    logLines(run.proc);
    expect(run.proc.stderr()).toBe('');
    // The server is gone with the process.
    expect(await httpGet(run.port, '/healthz')).toBeUndefined();
  });

  it('opens an alert for a matching object, and keeps an ack made with the CLI', async () => {
    const run = await startRun('alerts');
    await answers(run, '/readyz', 200);
    const cli = cliFor(etcd.endpoint, run.prefix);
    const down = NODE_YAML.replace('health: up', 'health: down');
    const applied = await cli(['apply', '-f', '-'], { stdin: `${POLICY_YAML}---\n${down}` });
    expect(applied.code, applied.stderr).toBe(0);

    const alert = await waitFor(
      async () => {
        const page = await etcd.store.list(`${run.prefix}/Alert/default/`);
        return page.items.length === 1 ? page.items[0] : undefined;
      },
      { timeoutMs: 15_000, what: 'the alert' },
    );
    const name = alert.key.split('/').at(-1)!;
    expect((await stored(etcd.store, alert.key))!).toMatchObject({
      spec: { state: 'open' },
      status: { severity: 'critical', objectRef: { kind: 'Node', tenant: 'default', name: 'n1' } },
    });

    const ack = await cli(['ack', name, '--user', 'alice']);
    expect(ack).toMatchObject({ code: 0, stdout: `alert/default/${name} acknowledged\n` });
    const policyKey = `${run.prefix}/AlertPolicy/default/node-down`;
    await waitFor(
      async () => {
        const policy = await stored(etcd.store, policyKey);
        return policy?.status?.acknowledgedAlerts === 1 && policy.status.openAlerts === 0;
      },
      { timeoutMs: 10_000, what: 'the policy status to count the ack' },
    );
    expect((await stored(etcd.store, alert.key))!).toMatchObject({
      spec: { state: 'acknowledged' },
      status: { acknowledged: { user: 'alice' } },
    });

    await stopsCleanly(run.proc, 'SIGTERM');
    logLines(run.proc);
  });

  it('exits 0 within 10 s on SIGINT', async () => {
    const run = await startRun('sigint');
    await answers(run, '/readyz', 200);
    await stopsCleanly(run.proc, 'SIGINT');
    logLines(run.proc);
  });

  it('honours the ALERTMGR_* twins of its flags, and a flag wins over its twin', async () => {
    const port = await freePort();
    const prefix = uniquePrefix('env');
    const proc = alertmgr(['run'], {
      ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
      ALERTMGR_HTTP: `127.0.0.1:${port}`,
      ALERTMGR_PREFIX: prefix,
      ALERTMGR_STATE_PREFIX: `/state${prefix}`,
      ALERTMGR_LOG_LEVEL: 'warn',
    });
    await answers({ proc, port, prefix }, '/readyz', 200);
    await stopsCleanly(proc, 'SIGTERM');
    // At warn, the info lines of a normal start and stop are not written.
    expect(logLines(proc).filter((line) => line.level === 'info')).toEqual([]);

    const flagged = alertmgr(['run', '--log-level', 'info'], {
      ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
      ALERTMGR_HTTP: `127.0.0.1:${port}`,
      ALERTMGR_PREFIX: prefix,
      ALERTMGR_STATE_PREFIX: `/state${prefix}`,
      ALERTMGR_LOG_LEVEL: 'loud',
    });
    await answers({ proc: flagged, port, prefix }, '/readyz', 200);
    await stopsCleanly(flagged, 'SIGTERM');
    expect(logLines(flagged).some((line) => line.level === 'info')).toBe(true);
  });
});

describe('alertmgr run: bad usage', () => {
  it.each([
    [['--clear-duration', '5x'], '--clear-duration'],
    [['--log-level', 'loud'], '--log-level'],
    [['--restart-budget', 'many'], '--restart-budget'],
    [['--no-such-flag'], '--no-such-flag'],
    [['--gc-retention', 'forever'], '--gc-retention'],
    [['--store', 'disk'], '--store'],
    [['--etcd-endpoints', '127.0.0.1:2379'], '--etcd-endpoints'],
    [['--prefix', '/same', '--state-prefix', '/same'], '--state-prefix'],
    [['extra-argument'], "'run'"],
  ])('%j: exit 2 with one line on stderr naming %s', async (args, named) => {
    const port = await freePort();
    const proc = alertmgr([
      'run',
      '--etcd-endpoints',
      etcd.endpoint,
      '--http',
      `127.0.0.1:${port}`,
      ...args,
    ]);
    const exit = await exitWithin(proc, 10_000);
    expect(exit.code, proc.stdout()).toBe(2);
    expect(oneLineError(proc.stderr())).toContain(named);
    expect(proc.stdout()).toBe('');
  });

  it.each([
    [{ ALERTMGR_CLEAR_DURATION: '5x' }, 'ALERTMGR_CLEAR_DURATION'],
    [{ ALERTMGR_LOG_LEVEL: 'loud' }, 'ALERTMGR_LOG_LEVEL'],
    [{ ALERTMGR_HTTP: 'nowhere' }, 'ALERTMGR_HTTP'],
    [{ ALERTMGR_GC_INTERVAL: '-1s' }, 'ALERTMGR_GC_INTERVAL'],
  ])('%j: exit 2 with one line on stderr naming %s', async (env, named) => {
    const port = await freePort();
    const proc = alertmgr(['run'], {
      ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
      ...(named === 'ALERTMGR_HTTP' ? {} : { ALERTMGR_HTTP: `127.0.0.1:${port}` }),
      ...env,
    });
    const exit = await exitWithin(proc, 10_000);
    expect(exit.code, proc.stdout()).toBe(2);
    expect(oneLineError(proc.stderr())).toContain(named);
    expect(proc.stdout()).toBe('');
  });
});

describe('alertmgr run: etcd unreachable at start', () => {
  it('keeps running, not ready, and becomes ready once etcd comes up there', async () => {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const run = await startRun('late', [], `http://127.0.0.1:${clientPort}`);
    await answers(run, '/healthz', 200);

    // For a few seconds: still running, still not ready. This watches, it does not wait for.
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      expect(run.proc.running(), run.proc.stderr()).toBe(true);
      expect(await status(run.port, '/readyz')).toBe(503);
      await new Promise((r) => setTimeout(r, 250));
    }

    const late = await startEtcdOn(clientPort, peerPort);
    try {
      await answers(run, '/readyz', 200, 45_000);
      await stopsCleanly(run.proc, 'SIGTERM');
      logLines(run.proc);
    } finally {
      await late.stop();
    }
  });

  it('exits 0 on SIGTERM while it is still retrying', async () => {
    const run = await startRun('never', [], `http://127.0.0.1:${await freePort()}`);
    await answers(run, '/healthz', 200);
    expect(await status(run.port, '/readyz')).toBe(503);
    await stopsCleanly(run.proc, 'SIGTERM');
    logLines(run.proc);
  });
});
