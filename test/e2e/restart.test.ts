import { describe, expect, it } from 'vitest';

import { waitFor } from '../helpers/poll.js';
import {
  healthPolicy,
  holdsFor,
  scenario,
  sleep,
  type Scenario,
  type StoredAlert,
  useScenarioEtcd,
} from './harness.js';

/**
 * Restarts: what changed while the daemon was down is reconciled on start-up, a restart
 * with nothing changed writes nothing, and no number of restarts makes a second alert.
 */

const etcd = useScenarioEtcd();

const rackPolicy = (rack: string) =>
  healthPolicy([], {
    severity: 'warn',
    message: 'rack watch',
    requirements: [{ key: 'meta.labels.rack', operator: 'equals', values: [rack] }],
  });

/** Every key under the prefix with its mod_revision. */
async function snapshot(s: Scenario): Promise<Map<string, number>> {
  const { items } = await s.store.list(`${s.prefix}/`);
  return new Map(items.map((kv) => [kv.key, kv.modRevision]));
}

/** Waits until nothing under the prefix changes for 1.2 s (longer than a status interval). */
async function settle(s: Scenario): Promise<Map<string, number>> {
  let last = await snapshot(s);
  const same = (a: Map<string, number>, b: Map<string, number>) =>
    JSON.stringify([...a]) === JSON.stringify([...b]);
  return waitFor(
    async () => {
      await sleep(1_200);
      const now = await snapshot(s);
      const quiet = same(now, last);
      last = now;
      return quiet && now;
    },
    { timeoutMs: 15_000, what: 'the prefix to stop changing' },
  );
}

/**
 * Each restart test runs twice: after a graceful stop (the daemon saved its snapshot under the
 * state prefix and resumes from it) and with the state prefix wiped (start-up from etcd alone,
 * as after a crash before any snapshot). The contract is the same for both.
 */
const MODES = [
  { mode: 'resuming from its snapshot', wipe: false },
  { mode: 'with its state prefix wiped', wipe: true },
];

describe.each(MODES)('restart, $mode', ({ wipe }) => {
  it('reconciles what changed while the daemon was down', async () => {
    const s = scenario(etcd.server, 'rs');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putPolicy('rack-r9', rackPolicy('r9'));
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'down');
    await s.putNode('n3', 'up');
    await s.putNode('n4', 'up', { rack: 'r9' });
    await s.putNode('n5', 'down');
    const n1 = await s.waitState('node-down', 'n1', 'open');
    const n2 = await s.waitState('node-down', 'n2', 'open');
    const n5 = await s.waitState('node-down', 'n5', 'open');
    await s.waitState('rack-r9', 'n4', 'open');
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 3 && st.totalHits === 3);
    await s.stopDaemons();
    if (wipe) await s.wipeState();

    // While it is down: an object goes, one heals, one starts matching, a policy goes.
    await s.deleteObject('Node', 'n1');
    await s.putNode('n2', 'up');
    await s.putNode('n3', 'down');
    await s.deletePolicy('rack-r9');

    await s.start();
    await s.waitNoAlert('node-down', 'n1');
    await s.waitNoAlert('rack-r9', 'n4');
    const healed = await s.waitState('node-down', 'n2', 'resolved');
    expect(healed.key).toBe(n2.key);
    expect(healed.doc.status.resolved.user).toBe('System');
    const fresh = await s.waitState('node-down', 'n3', 'open');
    expect(fresh.doc.status.totalHits).toBe(1);

    const alerts = await s.alerts();
    expect(alerts.map((a) => a.doc.status.objectRef.name).sort()).toEqual(['n2', 'n3', 'n5']);
    expect(alerts.find((a) => a.key === n1.key)).toBeUndefined();
    const still = alerts.find((a) => a.key === n5.key);
    expect(still?.modRevision, 'the unchanged open alert is not rewritten').toBe(n5.modRevision);

    const status = await s.waitPolicyStatus(
      'node-down',
      (st) => st.openAlerts === 2 && st.totalHits === 4,
    );
    expect(status).toEqual({ totalHits: 4, openAlerts: 2, acknowledgedAlerts: 0, error: '' });
  });

  it('a restart with nothing changed writes nothing', async () => {
    const s = scenario(etcd.server, 'rs');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putPolicy('rack-r1', rackPolicy('r1'));
    await s.putNode('n1', 'down', { rack: 'r1' });
    await s.putNode('n2', 'down');
    await s.putNode('n3', 'down');
    await s.putNode('n4', 'up');
    await s.waitState('node-down', 'n1', 'open');
    await s.waitState('rack-r1', 'n1', 'open');
    const n2 = await s.waitState('node-down', 'n2', 'open');
    await s.waitState('node-down', 'n3', 'open');
    const ack = await s.cli(['ack', n2.name, '--user', 'alice']);
    expect(ack.code, ack.stderr).toBe(0);
    await s.putNode('n3', 'up');
    await s.waitState('node-down', 'n3', 'resolved');
    const before = await s.waitPolicyStatus(
      'node-down',
      (st) => st.openAlerts === 1 && st.acknowledgedAlerts === 1 && st.totalHits === 3,
    );
    await s.waitPolicyStatus('rack-r1', (st) => st.openAlerts === 1);
    const settled = await settle(s);
    await s.stopDaemons();
    if (wipe) await s.wipeState();
    const alertsBefore = await s.alerts();
    expect(alertsBefore).toHaveLength(4);

    await s.start();
    // Longer than the clear duration and two policy status intervals.
    await holdsFor(2_500, async () => {
      const now = await snapshot(s);
      expect([...now.keys()].sort(), 'no key created or deleted').toEqual(
        [...settled.keys()].sort(),
      );
      for (const [key, revision] of now) {
        if (key.includes('/AlertPolicy/')) continue;
        expect(revision, `${key} not rewritten`).toBe(settled.get(key));
      }
    });
    const after = await s.policy('node-down');
    expect(after.doc.status).toEqual(before);
    const policyRevisions = [...(await snapshot(s))].filter(([k]) => k.includes('/AlertPolicy/'));
    for (const [key, revision] of policyRevisions) {
      expect
        .soft(revision, `${key}: policy status rewritten though unchanged`)
        .toBe(settled.get(key));
    }

    // The second daemon was alive all along: a heal now resolves.
    await s.putNode('n1', 'up', { rack: 'r1' });
    await s.waitState('node-down', 'n1', 'resolved');
  });

  it('a resolved alert whose object still matches reopens at start-up', async () => {
    const s = scenario(etcd.server, 'rs');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putNode('n1', 'down');
    const opened = await s.waitState('node-down', 'n1', 'open');
    const res = await s.cli(['resolve', opened.name, '--user', 'bob']);
    expect(res.code, res.stderr).toBe(0);
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 0);
    await s.stopDaemons();
    if (wipe) await s.wipeState();

    await s.start();
    const reopened = await s.waitState('node-down', 'n1', 'open');
    expect(reopened.key).toBe(opened.key);
    expect(reopened.doc.status.totalHits).toBe(2);
    expect(reopened.doc.status).not.toHaveProperty('resolved');
    const status = await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 1);
    expect(status).toEqual({ totalHits: 2, openAlerts: 1, acknowledgedAlerts: 0, error: '' });
  });

  it('a severity or message change made while down applies to existing alerts', async () => {
    const s = scenario(etcd.server, 'rs');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'down');
    await s.waitState('node-down', 'n1', 'open');
    const n2 = await s.waitState('node-down', 'n2', 'open');
    const ack = await s.cli(['ack', n2.name, '--user', 'alice']);
    expect(ack.code, ack.stderr).toBe(0);
    await s.stopDaemons();
    if (wipe) await s.wipeState();

    await s.putPolicy('node-down', healthPolicy(['down'], { severity: 'info', message: 'calm' }));
    await s.start();
    for (const n of ['n1', 'n2']) {
      const alert = await s.waitAlert('node-down', n, (a) => a.doc.status.severity === 'info', {
        timeoutMs: 5_000,
        what: `${n}'s alert to take the new severity`,
      });
      expect(alert.doc.status.message).toBe('calm');
      expect(alert.doc.status.totalHits).toBe(1);
    }
    expect((await s.alertFor('node-down', 'n2'))?.doc.spec.state).toBe('acknowledged');
  });
});

describe('restarts', () => {
  it('keeps exactly one alert per (policy, object) across several restarts', async () => {
    const s = scenario(etcd.server, 'rs');
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    const policies = ['node-down', 'with-uuid'];
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putPolicy(
      'with-uuid',
      healthPolicy([], {
        requirements: [{ key: 'status.health', operator: 'in', values: ['down', 'dead'] }],
      }),
      'default',
      { uuid: '5b0e1c52-0f0a-4bd8-9b57-1f1b2c3d4e5f' },
    );
    for (const n of nodes) await s.putNode(n, 'down');

    // Round 0: everything opens.
    await s.start();
    const names = new Map<string, string>();
    for (const p of policies) {
      for (const n of nodes) names.set(`${p}:${n}`, (await s.waitState(p, n, 'open')).name);
    }
    await s.stopDaemons();

    await s.putNode('n1', 'up');
    await s.putNode('n2', 'up');

    // Round 1: stopped right after a change, before its clear can be due.
    await s.start();
    await s.putNode('n3', 'up');
    await s.putNode('n5', 'down', { touched: '1' });
    await s.stopDaemons();

    await s.putNode('n4', 'up');
    await s.wipeState();

    // Round 2 (from etcd alone): runs until everything is settled.
    await s.start();
    for (const p of policies) {
      await s.waitState(p, 'n5', 'open');
      for (const n of ['n1', 'n2', 'n3', 'n4']) await s.waitState(p, n, 'resolved');
    }
    await s.stopDaemons();

    // Round 3: nothing changed.
    await s.start();
    await holdsFor(300, () => {});
    await s.stopDaemons();

    // Round 4: n2 matches again, restarted twice in a row.
    await s.putNode('n2', 'dead');
    await s.start();
    await s.stopDaemons();
    await s.wipeState();
    await s.start();
    await s.waitState('with-uuid', 'n2', 'open');
    await s.waitState('node-down', 'n2', 'resolved');

    const byPair = new Map<string, StoredAlert[]>();
    for (const a of await s.alerts()) {
      const ref = a.doc.status.objectRef;
      const pair = `${a.doc.status.reason.policyId}|${ref.kind}/${ref.tenant}/${ref.name}`;
      byPair.set(pair, [...(byPair.get(pair) ?? []), a]);
    }
    expect(byPair.size).toBe(policies.length * nodes.length);
    for (const [pair, alerts] of byPair) expect(alerts.length, pair).toBe(1);
    for (const p of policies) {
      for (const n of nodes) {
        const alert = (await s.alertFor(p, n)) as StoredAlert;
        expect(alert.name, `${p}:${n} keeps its name`).toBe(names.get(`${p}:${n}`));
      }
    }
    const hits = async (p: string, n: string) =>
      ((await s.alertFor(p, n)) as StoredAlert).doc.status.totalHits;
    expect(await hits('with-uuid', 'n2')).toBe(2);
    expect(await hits('node-down', 'n2')).toBe(1);
    for (const n of ['n1', 'n3', 'n4', 'n5']) {
      for (const p of policies) expect(await hits(p, n), `${p}:${n}`).toBe(1);
    }
  });
});
