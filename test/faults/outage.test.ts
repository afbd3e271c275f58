import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { Daemon } from '../../src/daemon/index.js';
import { EtcdStore } from '../../src/store/index.js';
import { healthPolicy, holdsFor, scenario, stopScenarios, type Scenario } from '../e2e/harness.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';

/**
 * etcd outages seen by a running daemon: the link cut, the link stalled, etcd paused and
 * etcd restarted. The daemon reaches etcd only through a TCP proxy, while the test writes
 * straight to etcd, so changes can be made while the daemon cannot see them. In every case
 * the daemon must stay up, say it is not ready while it is cut off, and end on the alerts
 * that match what etcd holds.
 *
 * The harness gives the daemon's etcd client its default timeouts (5 s per request; a watch
 * is declared dead after 10 s of silence, checked every 5 s), so a silent outage is only
 * noticed 5 to 15 s in; the stalls below last longer than that.
 */

let server: EtcdServer;
let proxy: TcpProxy;

beforeAll(async () => {
  server = await startEtcd();
});

afterEach(async () => {
  // Whatever a failed test left behind, the daemon must be able to drain and stop.
  server.signal('SIGCONT');
  proxy?.heal();
  await stopScenarios();
  await proxy?.close();
});

afterAll(async () => {
  await server?.stop();
});

/** Long enough for every timeout of the daemon's etcd client to have fired at least once. */
const SILENT_OUTAGE_MS = 16_000;
/** After the link is back: the gRPC reconnect backoff plus the watcher's retry backoff. */
const RECOVERY_MS = 30_000;

/** A scenario whose daemon talks to etcd through a fresh proxy; the test writes directly. */
async function proxied(tag: string): Promise<{ s: Scenario; daemon: Daemon }> {
  const endpoint = server.endpoint;
  proxy = await startProxy(Number(new URL(endpoint).port));
  const s = scenario({ ...server, endpoint: proxy.endpoint }, tag);
  const daemon = await s.start();
  expect(proxy.connections).toBeGreaterThan(0);
  return { s, daemon };
}

/** Before the outage: n1 and n4 down (open), n2 and n3 up (no alert), one policy. */
async function before(s: Scenario): Promise<void> {
  await s.putPolicy('node-down', healthPolicy());
  await s.putNode('n1', 'down');
  await s.putNode('n2', 'up');
  await s.putNode('n3', 'up');
  await s.putNode('n4', 'down');
  await s.waitState('node-down', 'n1', 'open');
  await s.waitState('node-down', 'n4', 'open');
  expect(await s.alerts()).toHaveLength(2);
  // The daemon has had the replies to its writes too (it counts an opening once etcd has
  // confirmed it), so the outage does not land between a write and its reply: that case
  // has a test of its own below.
  await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 2 && st.totalHits === 2);
}

/** While the daemon is cut off: n1 heals, n2 breaks, n4 is deleted. */
async function changeDuring(s: Scenario, store: EtcdStore = s.store): Promise<void> {
  const node = (name: string, health: string) =>
    JSON.stringify({ kind: 'Node', meta: { name, tenant: 'default' }, status: { health } });
  await store.put(s.key('Node', 'default', 'n1'), node('n1', 'up'));
  await store.put(s.key('Node', 'default', 'n2'), node('n2', 'down'));
  await store.delete(s.key('Node', 'default', 'n4'));
}

/** The changes made during the outage are applied, then changes made after it too. */
async function expectCaughtUp(s: Scenario): Promise<void> {
  const timeoutMs = RECOVERY_MS;
  await s.waitState('node-down', 'n1', 'resolved', { timeoutMs });
  await s.waitState('node-down', 'n2', 'open', { timeoutMs });
  await s.waitNoAlert('node-down', 'n4', { timeoutMs });

  // After: n3 breaks and n1 breaks again (a reopen of the same alert).
  await s.putNode('n3', 'down');
  await s.putNode('n1', 'down');
  await s.waitState('node-down', 'n3', 'open');
  const n1 = await s.waitState('node-down', 'n1', 'open');
  expect(n1.doc.status.totalHits).toBe(2);

  // One alert per (policy, object), each with the state of its object; five openings in all
  // (n1, n4, n2, n3, and n1 again).
  const alerts = await s.alerts();
  const byObject = new Map(alerts.map((a) => [a.doc.status.objectRef.name, a.doc.spec.state]));
  expect(alerts).toHaveLength(3);
  expect(Object.fromEntries(byObject)).toEqual({ n1: 'open', n2: 'open', n3: 'open' });
  const counts = await s.waitPolicyStatus(
    'node-down',
    (st) => st.openAlerts === 3 && st.totalHits === 5,
  );
  expect(counts.acknowledgedAlerts).toBe(0);
}

/** Records whether the daemon ever said it was not ready, polling every 10 ms. */
function readiness(daemon: Daemon) {
  let sawNotReady = false;
  const timer = setInterval(() => {
    if (!daemon.isReady()) sawNotReady = true;
  }, 10);
  return {
    get sawNotReady() {
      return sawNotReady;
    },
    stop: () => clearInterval(timer),
  };
}

/** The daemon neither exited nor restarted its stages: an outage is not a crash. */
async function expectStillUp(daemon: Daemon, generation: unknown): Promise<void> {
  const exited = await Promise.race([
    daemon.done.then((code) => `exited with ${code}`),
    new Promise<string>((resolve) => setImmediate(() => resolve('running'))),
  ]);
  expect(exited).toBe('running');
  expect(daemon.supervisor.current, 'the outage restarted the stages').toBe(generation);
}

describe('etcd outages', () => {
  it('applies changes made while the proxy cut the link, once it heals', async () => {
    const { s, daemon } = await proxied('cut');
    await before(s);
    const generation = daemon.supervisor.current;

    proxy.cut();
    // A reset connection fails the watch at once; no timeout is involved.
    await waitFor(() => !daemon.isReady(), { timeoutMs: 5_000, what: 'not ready after the cut' });
    await changeDuring(s);
    // The cut is real: nothing reaches the daemon while it lasts.
    await holdsFor(1_000, async () => {
      expect((await s.alertFor('node-down', 'n1'))?.doc.spec.state).toBe('open');
      expect(await s.alertFor('node-down', 'n2')).toBeUndefined();
      expect(daemon.isReady()).toBe(false);
    });

    proxy.heal();
    await waitFor(() => daemon.isReady(), { timeoutMs: RECOVERY_MS, what: 'ready after heal' });
    await expectCaughtUp(s);
    await expectStillUp(daemon, generation);
  }, 90_000);

  it('survives a stall longer than its timeouts and catches up after it', async () => {
    const { s, daemon } = await proxied('stall');
    await before(s);
    const generation = daemon.supervisor.current;

    const stalledAt = Date.now();
    proxy.stall();
    await changeDuring(s);
    await waitFor(() => !daemon.isReady(), {
      timeoutMs: SILENT_OUTAGE_MS + 4_000,
      what: 'not ready during the stall',
    });
    // Keep the stall going past every timeout; the daemon stays up and not ready meanwhile.
    await waitFor(() => Date.now() - stalledAt >= SILENT_OUTAGE_MS, {
      timeoutMs: SILENT_OUTAGE_MS + 1_000,
    });
    expect(daemon.isReady()).toBe(false);
    expect(await s.alertFor('node-down', 'n2')).toBeUndefined();
    await expectStillUp(daemon, generation);

    proxy.heal();
    await waitFor(() => daemon.isReady(), { timeoutMs: RECOVERY_MS, what: 'ready after heal' });
    await expectCaughtUp(s);
    await expectStillUp(daemon, generation);
  }, 120_000);

  it('survives etcd paused (SIGSTOP) past its timeouts and catches up after SIGCONT', async () => {
    const { s, daemon } = await proxied('pause');
    await before(s);
    const generation = daemon.supervisor.current;
    // etcd cannot take writes while it is stopped: the changes are sent during the pause on
    // a client that waits long enough, and committed the moment etcd runs again.
    const patient = new EtcdStore({ endpoints: [server.endpoint], requestTimeoutMs: 60_000 });
    try {
      const pausedAt = Date.now();
      server.signal('SIGSTOP');
      const during = changeDuring(s, patient);
      during.catch(() => {}); // awaited below; this only keeps an early failure handled
      await waitFor(() => !daemon.isReady(), {
        timeoutMs: SILENT_OUTAGE_MS + 4_000,
        what: 'not ready while etcd is paused',
      });
      await waitFor(() => Date.now() - pausedAt >= SILENT_OUTAGE_MS, {
        timeoutMs: SILENT_OUTAGE_MS + 1_000,
      });
      expect(daemon.isReady()).toBe(false);
      await expectStillUp(daemon, generation);

      server.signal('SIGCONT');
      await during;
      await waitFor(() => daemon.isReady(), { timeoutMs: RECOVERY_MS, what: 'ready after CONT' });
      await expectCaughtUp(s);
      await expectStillUp(daemon, generation);
    } finally {
      server.signal('SIGCONT');
      await patient.close();
    }
  }, 120_000);

  it('survives an etcd restart and catches up after it', async () => {
    const { s, daemon } = await proxied('restart');
    await before(s);
    const generation = daemon.supervisor.current;

    const watching = readiness(daemon);
    try {
      await server.restart();
      // Made as soon as etcd is back, usually before the daemon has reconnected (its
      // retries back off); changes cannot be made while etcd itself is down.
      await changeDuring(s);
      await waitFor(() => daemon.isReady(), { timeoutMs: RECOVERY_MS, what: 'ready again' });
    } finally {
      watching.stop();
    }
    expect(watching.sawNotReady, 'not ready while etcd was down').toBe(true);
    await expectCaughtUp(s);
    await expectStillUp(daemon, generation);
  }, 90_000);

  it('counts and announces an alert write that etcd applied but whose reply was lost', async () => {
    // The link breaks after etcd has applied an alert write and before the reply arrives
    // (the cut tests above wait for the replies first, so as not to land here by chance).
    // The retry is refused by its own guard (the key has changed: by that very write), and
    // the change must still be counted in the policy's totalHits and sent to destinations.
    const { s, daemon } = await proxied('lost');
    const dir = await mkdtemp(join(tmpdir(), 'alertmgr-lost-'));
    const file = join(dir, 'alerts.jsonl');
    const sent = async (object: string, state: string) => {
      const text = await readFile(file, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .filter((n) => n.alert.status.objectRef.name === object && n.state === state);
    };
    try {
      const destination = { kind: 'AlertDestination', meta: { name: 'file', tenant: 'default' } };
      await s.store.put(
        s.key('AlertDestination', 'default', 'file'),
        JSON.stringify({ ...destination, spec: { fileExport: { path: file } } }),
      );
      await s.putPolicy(
        'node-down',
        healthPolicy(['down'], { persistenceDuration: '1s', destinations: ['file'] }),
      );
      // A first alert, end to end, proves the destination is in place.
      await s.putNode('n0', 'down');
      await waitFor(async () => (await sent('n0', 'open')).length === 1, {
        what: 'the notification of n0',
      });

      // n1 breaks; once the daemon has seen it (its open waits out persistenceDuration), the
      // replies from etcd are held back, so its alert write arrives and is applied unanswered.
      const revision = await s.putNode('n1', 'down');
      await waitFor(() => (daemon.supervisor.current?.watcher.processedRevision ?? 0) >= revision, {
        what: 'the daemon to see n1',
      });
      proxy.stall('to-client');
      await s.waitState('node-down', 'n1', 'open');
      proxy.cut();
      await waitFor(() => !daemon.isReady(), { timeoutMs: 5_000, what: 'not ready after the cut' });
      proxy.heal();
      await waitFor(() => daemon.isReady(), { timeoutMs: RECOVERY_MS, what: 'ready after heal' });

      const alert = await s.waitState('node-down', 'n1', 'open');
      expect(alert.doc.status.totalHits).toBe(1);
      // Both checks run, so a failure says which of the two went wrong, or both.
      const problems: string[] = [];
      await s
        .waitPolicyStatus('node-down', (st) => st.openAlerts === 2 && st.totalHits === 2, {
          what: 'status of node-down to count both openings',
        })
        .catch((err: unknown) => problems.push(String(err)));
      await waitFor(async () => (await sent('n1', 'open')).length >= 1, {
        timeoutMs: 10_000,
        what: 'the notification of n1 opening',
      }).catch((err: unknown) => problems.push(String(err)));
      expect(problems).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
