import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  healthPolicy,
  holdsFor,
  putMany,
  scenario,
  type Scenario,
  type StoredAlert,
} from '../e2e/harness.js';
import { buildOnce } from '../cli/child.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';
import { freePort } from '../helpers/ports.js';

/**
 * The real process killed with SIGKILL in the middle of a burst of object updates, then
 * started again: no alert is duplicated, every alert ends in the state of its object, and a
 * further restart with nothing changed rewrites no alert. This runs `bin/alertmgr.js`, which
 * loads the compiled `dist/`: run `npm run build` first.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODES = 500;
const ROUNDS = 6;
/** The round after whose write the first process is killed, while it is still busy. */
const KILL_AFTER_ROUND = 2;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

let server: EtcdServer;
const running: Daemon[] = [];

beforeAll(async () => {
  // The same build step as the other tests that run the CLI as a process: one build at a
  // time, and none while a fresh one is in place.
  await buildOnce();
  if (!existsSync(`${ROOT}dist/cli/index.js`)) {
    throw new Error('dist/ is missing: run `npm run build` before this test');
  }
  server = await startEtcd();
}, 150_000);

afterEach(async () => {
  for (const daemon of running.splice(0)) await daemon.kill('SIGKILL');
});

afterAll(async () => {
  await server?.stop();
});

/** One `alertmgr run` process, with the tail of its output kept for failure messages. */
class Daemon {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8_000));
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  static async start(s: Scenario): Promise<Daemon> {
    const port = await freePort();
    const args = [
      'bin/alertmgr.js',
      'run',
      '--etcd-endpoints',
      s.server.endpoint,
      '--prefix',
      s.prefix,
      '--state-prefix',
      s.statePrefix,
      '--http',
      `127.0.0.1:${port}`,
      '--clear-duration',
      '300ms',
      '--snapshot-interval',
      '200ms',
      '--log-level',
      'info',
    ];
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const daemon = new Daemon(proc, port);
    running.push(daemon);
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`);
        return (await daemon.readyz()) === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'alertmgr to be ready' },
    ).catch((err: unknown) => {
      throw new Error(`${message(err)}; its output ends with:\n${daemon.tail()}`);
    });
    return daemon;
  }

  async readyz(): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${this.port}/readyz`, {
      signal: AbortSignal.timeout(2_000),
    });
    await res.arrayBuffer();
    return res.status;
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals) {
    if (this.alive) this.proc.kill(signal);
    const index = running.indexOf(this);
    if (index >= 0) running.splice(index, 1);
    return this.exited;
  }

  tail(): string {
    return this.output.split('\n').slice(-25).join('\n');
  }
}

/** Node `i`'s health in `round`; the last round leaves every seventh node down. */
function health(i: number, round: number): 'up' | 'down' {
  if (round === ROUNDS - 1) return i % 7 === 0 ? 'down' : 'up';
  return (i + round) % 3 === 0 ? 'down' : 'up';
}

const nodeName = (i: number) => `node-${String(i).padStart(3, '0')}`;

/** One round: every node rewritten, in transactions of 128. Returns the last revision. */
async function writeRound(s: Scenario, round: number): Promise<number> {
  const entries = Array.from({ length: NODES }, (_, i) => ({
    key: s.key('Node', 'default', nodeName(i)),
    value: JSON.stringify({
      kind: 'Node',
      meta: { name: nodeName(i), tenant: 'default', labels: { round: String(round) } },
      status: { health: health(i, round) },
    }),
  }));
  await putMany(s.store, entries);
  return s.store.currentRevision();
}

/** The alerts grouped by (policy id, object); a group of two or more is a duplicate. */
function groups(alerts: StoredAlert[]): Map<string, StoredAlert[]> {
  const byPair = new Map<string, StoredAlert[]>();
  for (const a of alerts) {
    const ref = a.doc.status?.objectRef ?? {};
    const pair = `${a.doc.status?.reason?.policyId} ${ref.kind}/${ref.tenant}/${ref.name}`;
    byPair.set(pair, [...(byPair.get(pair) ?? []), a]);
  }
  return byPair;
}

/** What is wrong with the alerts against the final object states; empty when nothing. */
function problems(alerts: StoredAlert[], policyId: string): string[] {
  const found: string[] = [];
  for (const [pair, list] of groups(alerts)) {
    if (list.length > 1) found.push(`${list.length} alerts for ${pair}`);
  }
  const byObject = new Map(alerts.map((a) => [a.doc.status?.objectRef?.name as string, a]));
  for (let i = 0; i < NODES; i++) {
    const alert = byObject.get(nodeName(i));
    const state = alert?.doc.spec?.state;
    const down = health(i, ROUNDS - 1) === 'down';
    // A node that is up may never have had an alert: its down rounds can be skipped when
    // later writes arrive first (processing is level-based). One that is down must be open.
    if (down && state !== 'open') found.push(`${nodeName(i)} is down, alert ${state ?? 'none'}`);
    if (!down && alert && state !== 'resolved') found.push(`${nodeName(i)} is up, alert ${state}`);
  }
  for (const a of alerts) {
    if (a.doc.status?.reason?.policyId !== policyId) {
      found.push(`${a.name} has policy ${a.doc.status?.reason?.policyId}`);
    }
  }
  return found;
}

/** Waits until the alerts match the final object states and have stopped changing. */
async function converged(s: Scenario, policyId: string): Promise<StoredAlert[]> {
  let last: string[] = [];
  let previous = '';
  return waitFor(
    async () => {
      const alerts = await s.alerts();
      last = problems(alerts, policyId);
      const revisions = JSON.stringify(alerts.map((a) => [a.key, a.modRevision]));
      const quiet = revisions === previous;
      previous = revisions;
      return last.length === 0 && quiet && alerts;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'the alerts to match the objects' },
  ).catch((err: unknown) => {
    throw new Error(`${message(err)}; ${last.length} problems: ${last.slice(0, 10).join('; ')}`);
  });
}

const OPEN_AT_END = Math.ceil(NODES / 7);

/**
 * Nodes flip health round after round under a running process; right after the round
 * KILL_AFTER_ROUND is written, the moment the process has begun writing alerts for it, it
 * is killed, and the remaining rounds land while it is down. Then a second process starts
 * and the alerts settle on the final object states.
 */
async function burstAndCrash(s: Scenario) {
  await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: undefined }));
  const policyId = await s.policyId('node-down');
  await writeRound(s, 0);
  const first = await Daemon.start(s);

  for (let round = 1; round < ROUNDS; round++) {
    const revision = await writeRound(s, round);
    if (round !== KILL_AFTER_ROUND) continue;
    await waitFor(async () => (await s.alerts()).some((a) => a.modRevision > revision), {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: `alert writes for round ${round}`,
    });
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
  }

  const second = await Daemon.start(s);
  const settled = await converged(s, policyId).catch((err: unknown) => {
    throw new Error(`${message(err)}\nsecond process output:\n${second.tail()}`);
  });
  return { second, settled };
}

describe('crash in the middle of a burst', () => {
  it('SIGKILL mid-burst: one alert each, all right, a quiet restart writes nothing', async () => {
    const s = scenario(server, 'kill');
    const { second, settled } = await burstAndCrash(s);
    expect(settled.filter((a) => a.doc.spec.state === 'open')).toHaveLength(OPEN_AT_END);
    expect(new Set(settled.map((a) => a.name)).size).toBe(settled.length);

    // A third start with nothing changed: no alert is written again.
    const before = new Map(settled.map((a) => [a.key, a.modRevision]));
    await second.kill('SIGKILL');
    const third = await Daemon.start(s);
    await holdsFor(
      3_000,
      async () => {
        const now = await s.alerts();
        const rewritten = now.filter((a) => before.get(a.key) !== a.modRevision).map((a) => a.name);
        expect(rewritten, 'alerts rewritten by a restart with nothing changed').toEqual([]);
        expect(now).toHaveLength(before.size);
      },
      250,
    );
    expect(third.alive).toBe(true);
    expect(await third.readyz()).toBe(200);
  }, 120_000);

  it('SIGKILL mid-burst: the policy status still counts every opening', async () => {
    const s = scenario(server, 'hits');
    const { settled } = await burstAndCrash(s);
    // No alert was ever deleted, so the alerts' own totalHits add up to the policy's
    // openings, those made by the killed process included.
    const hits = settled.reduce((sum, a) => sum + Number(a.doc.status.totalHits), 0);
    await s.waitPolicyStatus(
      'node-down',
      (st) => st.totalHits === hits && st.openAlerts === OPEN_AT_END,
      { what: `status of node-down: ${hits} hits, ${OPEN_AT_END} open` },
    );
  }, 120_000);
});
