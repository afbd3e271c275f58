import { describe, expect, it } from 'vitest';

import { waitFor } from '../helpers/poll.js';
import {
  expectOpenAlert,
  healthPolicy,
  holdsFor,
  scenario,
  type StoredAlert,
  useScenarioEtcd,
} from './harness.js';

/**
 * Deletions, tenant scoping and policy updates, end to end through etcd.
 */

const etcd = useScenarioEtcd();

const rackPolicy = (rack: string) =>
  healthPolicy([], {
    severity: 'warn',
    message: 'rack watch',
    requirements: [{ key: 'meta.labels.rack', operator: 'equals', values: [rack] }],
  });

describe('deletion', () => {
  it('deleting a managed object deletes its alerts, open or resolved, and only its', async () => {
    const s = scenario(etcd.server, 'pd');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putPolicy('rack-r1', rackPolicy('r1'));
    await s.putNode('n1', 'down', { rack: 'r1' });
    await s.putNode('n2', 'down', { rack: 'r2' });
    await s.putNode('n3', 'down', { rack: 'r2' });
    await s.waitState('node-down', 'n1', 'open');
    await s.waitState('rack-r1', 'n1', 'open');
    const n2 = await s.waitState('node-down', 'n2', 'open');
    await s.waitState('node-down', 'n3', 'open');
    await s.putNode('n3', 'up', { rack: 'r2' });
    await s.waitState('node-down', 'n3', 'resolved');
    expect(await s.alerts()).toHaveLength(4);

    await s.deleteObject('Node', 'n1');
    await s.waitNoAlert('node-down', 'n1');
    await s.waitNoAlert('rack-r1', 'n1');
    await s.deleteObject('Node', 'n3');
    await s.waitNoAlert('node-down', 'n3');

    const left = await s.alerts();
    expect(left.map((a) => a.name)).toEqual([n2.name]);
    expect(left[0]!.modRevision, "another object's alert is untouched").toBe(n2.modRevision);
    await s.waitPolicyStatus('rack-r1', (st) => st.openAlerts === 0);
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 1);
  });

  it('deleting a policy deletes its alerts; re-creating it makes a new policy id', async () => {
    const s = scenario(etcd.server, 'pd');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putPolicy('rack-r1', rackPolicy('r1'));
    const oldId = await s.policyId('node-down');
    await s.putNode('n1', 'down', { rack: 'r1' });
    await s.putNode('n2', 'down', { rack: 'r2' });
    const old1 = await s.waitState('node-down', 'n1', 'open');
    const old2 = await s.waitState('node-down', 'n2', 'open');
    const keep = await s.waitState('rack-r1', 'n1', 'open');
    const res = await s.cli(['resolve', old2.name, '--user', 'bob']);
    expect(res.code, res.stderr).toBe(0);

    await s.deletePolicy('node-down');
    await s.waitNoAlert('node-down', 'n1');
    await s.waitNoAlert('node-down', 'n2');
    const left = await s.alerts();
    expect(left.map((a) => a.name)).toEqual([keep.name]);
    expect(left[0]!.modRevision, "another policy's alert is untouched").toBe(keep.modRevision);

    // Same name, no meta.uuid: a new create revision, so a new policy id and new alerts.
    await s.putPolicy('node-down', healthPolicy(['down']));
    const newId = await s.policyId('node-down');
    expect(newId).not.toBe(oldId);
    for (const [object, old] of [
      ['n1', old1],
      ['n2', old2],
    ] as const) {
      const alert = await s.waitState('node-down', object, 'open');
      expect(alert.name).not.toBe(old.name);
      expectOpenAlert(alert, {
        policyId: newId,
        object,
        severity: 'critical',
        message: 'node is down',
        matched: [
          { key: 'status.health', operator: 'equals', values: ['down'], observedValue: 'down' },
        ],
        totalHits: 1,
      });
    }
    const status = await s.waitPolicyStatus(
      'node-down',
      (st) => st.openAlerts === 2 && st.totalHits === 2,
    );
    expect(status).toEqual({ totalHits: 2, openAlerts: 2, acknowledgedAlerts: 0, error: '' });
  });
});

describe('tenants', () => {
  it('a policy alerts only on objects of its own tenant, and writes alerts there', async () => {
    const s = scenario(etcd.server, 'pt');
    await s.start();
    for (const tenant of ['ta', 'tb']) {
      await s.putNode('n1', 'down', { rack: 'r1' }, tenant);
      await s.putNode('n2', 'down', { rack: 'r2' }, tenant);
    }
    await s.putPolicy('node-down', healthPolicy(['down']), 'ta');
    const idA = await s.policyId('node-down', 'ta');
    // A policy in tenant B too, narrower, so there is something to see in B.
    await s.putPolicy('rack-r1', rackPolicy('r1'), 'tb');
    const idB = await s.policyId('rack-r1', 'tb');

    for (const n of ['n1', 'n2']) {
      const alert = await s.waitState('node-down', n, 'open', { tenant: 'ta' });
      expect(alert.doc.status.objectRef).toEqual({ kind: 'Node', tenant: 'ta', name: n });
      expect(alert.doc.meta.tenant).toBe('ta');
    }
    const b = await s.waitState('rack-r1', 'n1', 'open', { tenant: 'tb' });
    expect(b.doc.status.objectRef).toEqual({ kind: 'Node', tenant: 'tb', name: 'n1' });

    // A new object in each tenant: only tenant A's gets A's alert.
    await s.putNode('n3', 'down', { rack: 'r1' }, 'tb');
    await s.putNode('n3', 'down', {}, 'ta');
    await s.waitState('node-down', 'n3', 'open', { tenant: 'ta' });
    await s.waitState('rack-r1', 'n3', 'open', { tenant: 'tb' });

    const summary = (alerts: StoredAlert[]) =>
      alerts
        .map(
          (a) =>
            `${a.doc.status.reason.policyId}:${a.doc.status.objectRef.tenant}/${a.doc.status.objectRef.name}`,
        )
        .sort();
    expect(summary(await s.alerts('ta'))).toEqual([`${idA}:ta/n1`, `${idA}:ta/n2`, `${idA}:ta/n3`]);
    expect(summary(await s.alerts('tb'))).toEqual([`${idB}:tb/n1`, `${idB}:tb/n3`]);
    expect(await s.alerts('default')).toEqual([]);
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 3, { tenant: 'ta' });
    await s.waitPolicyStatus('rack-r1', (st) => st.openAlerts === 2, { tenant: 'tb' });
  });
});

describe('policy updates', () => {
  it('changed requirements move the matches: new matches open, old ones clear', async () => {
    const s = scenario(etcd.server, 'pu');
    await s.start();
    await s.putPolicy('node-bad', healthPolicy(['down']));
    const id = await s.policyId('node-bad');
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'degraded');
    const n1 = await s.waitState('node-bad', 'n1', 'open');

    await s.putPolicy('node-bad', healthPolicy(['degraded']));
    expect(await s.policyId('node-bad'), 'an update keeps the policy id').toBe(id);
    const n2 = await s.waitState('node-bad', 'n2', 'open');
    expectOpenAlert(n2, {
      policyId: id,
      object: 'n2',
      severity: 'critical',
      message: 'node is down',
      matched: [
        {
          key: 'status.health',
          operator: 'equals',
          values: ['degraded'],
          observedValue: 'degraded',
        },
      ],
      totalHits: 1,
    });
    const cleared = await s.waitState('node-bad', 'n1', 'resolved');
    expect(cleared.key).toBe(n1.key);
    expect(cleared.doc.status.resolved.user).toBe('System');
    expect(await s.alerts()).toHaveLength(2);
    const status = await s.waitPolicyStatus(
      'node-bad',
      (st) => st.openAlerts === 1 && st.totalHits === 2,
    );
    expect(status).toEqual({ totalHits: 2, openAlerts: 1, acknowledgedAlerts: 0, error: '' });
  });

  it('a changed resource kind moves the policy to the other kind', async () => {
    const s = scenario(etcd.server, 'pu');
    await s.start();
    await s.putPolicy('health', healthPolicy(['down']));
    const id = await s.policyId('health');
    await s.putNode('n1', 'down');
    await s.putObject('DistributedServiceCard', 'c1', { status: { health: 'down' } });
    await s.waitState('health', 'n1', 'open');

    await s.putPolicy('health', healthPolicy(['down'], { resource: 'DistributedServiceCard' }));
    const card = await s.waitState('health', 'c1', 'open');
    expectOpenAlert(card, {
      policyId: id,
      object: 'c1',
      kind: 'DistributedServiceCard',
      severity: 'critical',
      message: 'node is down',
      matched: [
        { key: 'status.health', operator: 'equals', values: ['down'], observedValue: 'down' },
      ],
      totalHits: 1,
    });
    const node = await s.waitState('health', 'n1', 'resolved');
    expect(node.doc.status.resolved.user).toBe('System');
    await s.waitPolicyStatus('health', (st) => st.openAlerts === 1 && st.totalHits === 2);
  });

  it('a severity or message change applies to the existing alerts, without reopening', async () => {
    const s = scenario(etcd.server, 'pu');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'down');
    const open1 = await s.waitState('node-down', 'n1', 'open');
    await s.waitState('node-down', 'n2', 'open');
    await s.putNode('n2', 'up');
    await s.waitState('node-down', 'n2', 'resolved');

    await s.putPolicy('node-down', healthPolicy(['down'], { severity: 'warn', message: 'look' }));
    const n1 = await s.waitAlert('node-down', 'n1', (a) => a.doc.status.severity === 'warn');
    expect(n1.doc.status.message).toBe('look');
    expect(n1.doc.spec.state).toBe('open');
    expect(n1.doc.status.totalHits).toBe(1);
    expect(n1.doc.status.reason).toEqual(open1.doc.status.reason);
    const n2 = await s.waitAlert('node-down', 'n2', (a) => a.doc.status.severity === 'warn');
    expect(n2.doc.status.message).toBe('look');
    expect(n2.doc.spec.state, 'a refresh does not reopen').toBe('resolved');
    expect(n2.doc.status.totalHits).toBe(1);
    const status = await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 1);
    expect(status).toEqual({ totalHits: 2, openAlerts: 1, acknowledgedAlerts: 0, error: '' });
  });

  it('enable: false resolves its alerts and opens nothing', async () => {
    const s = scenario(etcd.server, 'pu');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'down');
    await s.waitState('node-down', 'n1', 'open');
    await s.waitState('node-down', 'n2', 'open');

    await s.putPolicy('node-down', healthPolicy(['down'], { enable: false }));
    for (const n of ['n1', 'n2']) {
      const alert = await s.waitState('node-down', n, 'resolved');
      expect(alert.doc.status.resolved.user).toBe('System');
    }
    const status = await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 0);
    expect(status).toEqual({ totalHits: 2, openAlerts: 0, acknowledgedAlerts: 0, error: '' });

    // A new match, and an update of a resolved one: an enabled twin policy alerts on both,
    // which shows the daemon evaluated them; the disabled one opens nothing.
    await s.putPolicy('twin', healthPolicy(['down']));
    await s.putNode('n3', 'down');
    await s.putNode('n1', 'down', { touched: 'yes' });
    await s.waitState('twin', 'n3', 'open');
    await s.waitState('twin', 'n1', 'open');
    await holdsFor(500, async () => {
      expect(await s.alertsFor('node-down', 'n3')).toEqual([]);
      expect((await s.alertFor('node-down', 'n1'))?.doc.spec.state).toBe('resolved');
    });

    // Enabled again: its matches open (reopen) again.
    await s.putPolicy('node-down', healthPolicy(['down'], { enable: true }));
    for (const n of ['n1', 'n2', 'n3']) await s.waitState('node-down', n, 'open');
    expect((await s.alertFor('node-down', 'n1'))?.doc.status.totalHits).toBe(2);
    expect((await s.alertFor('node-down', 'n3'))?.doc.status.totalHits).toBe(1);
  });

  it('changing meta.uuid in place is a delete plus a create', async () => {
    const s = scenario(etcd.server, 'pu');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']), 'default', { uuid: 'uid-a' });
    await s.putNode('n1', 'down');
    const old = await s.waitState('node-down', 'n1', 'open');
    expect(old.doc.status.reason.policyId).toBe('node-down/uid-a');

    await s.putPolicy('node-down', healthPolicy(['down']), 'default', { uuid: 'uid-b' });
    const fresh = await s
      .waitAlert('node-down', 'n1', (a) => a.doc.status.reason.policyId === 'node-down/uid-b', {
        what: 'the alert of the new policy id',
      })
      .catch(async (err: unknown) => {
        throw new Error(
          `${String(err)}; alerts: ${JSON.stringify((await s.alerts()).map((a) => [a.name, a.doc.status.reason.policyId]))}`,
        );
      });
    expect(fresh.name).not.toBe(old.name);
    expect(fresh.doc.spec.state).toBe('open');
    expect(fresh.doc.status.totalHits).toBe(1);
    await waitFor(async () => (await s.alerts()).length === 1, {
      what: "the old id's alert to be deleted",
    });
    expect((await s.alerts())[0]!.name).toBe(fresh.name);
    // The new policy counts its own openings only.
    await s.waitPolicyStatus('node-down', (st) => st.totalHits === 1 && st.openAlerts === 1);
  });
});
