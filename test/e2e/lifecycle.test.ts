import { describe, expect, it } from 'vitest';

import {
  expectOpenAlert,
  healthPolicy,
  holdsFor,
  scenario,
  sleep,
  type StoredAlert,
  useScenarioEtcd,
} from './harness.js';

/**
 * The alert lifecycle end to end: a real etcd, the daemon in-process, and only etcd between
 * the test and the daemon. Open, persistence, clear, reopen, user acknowledge/resolve, GC.
 */

const etcd = useScenarioEtcd();

const DOWN = { key: 'status.health', operator: 'equals', values: ['down'], observedValue: 'down' };

/** Sleeps until `ms` after `t0` (for "not yet" checks at a given moment). */
async function until(t0: number, ms: number): Promise<void> {
  const left = t0 + ms - Date.now();
  if (left > 0) await sleep(left);
}

describe('open', () => {
  it('opens an alert at once when persistenceDuration is 0s, with the documented shape', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: '1s' }));
    const policyId = await s.policyId('node-down');
    await s.putNode('n1', 'up');
    await s.putNode('n2', 'down');

    const alert = await s.waitState('node-down', 'n2', 'open');
    expectOpenAlert(alert, {
      policyId,
      object: 'n2',
      severity: 'critical',
      message: 'node is down',
      matched: [DOWN],
      totalHits: 1,
    });
    // n1 was written before n2 and does not match: it has no alert.
    expect((await s.alerts()).map((a) => a.doc.status.objectRef.name)).toEqual(['n2']);

    const status = await s.waitPolicyStatus(
      'node-down',
      (st) => st.openAlerts === 1 && st.totalHits === 1,
    );
    expect(status).toEqual({ totalHits: 1, openAlerts: 1, acknowledgedAlerts: 0, error: '' });
  });

  it('opens only after the condition has held for persistenceDuration', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('slow', healthPolicy(['down'], { persistenceDuration: '1s' }));
    const policyId = await s.policyId('slow');

    const t0 = Date.now();
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'down');

    await until(t0, 300);
    expect(await s.alerts(), 'no alert 300 ms into a 1s persistenceDuration').toEqual([]);
    // n2 holds for only ~300 ms of its 1s: it must never open.
    await s.putNode('n2', 'up');

    const alert = await s.waitState('slow', 'n1', 'open');
    expect(Date.parse(alert.doc.meta.creationTime) - t0).toBeGreaterThanOrEqual(990);
    expectOpenAlert(alert, {
      policyId,
      object: 'n1',
      severity: 'critical',
      message: 'node is down',
      matched: [DOWN],
      totalHits: 1,
    });
    // n2's deadline would have been at about the same moment as n1's; give it margin.
    await holdsFor(500, async () => expect(await s.alertsFor('slow', 'n2')).toEqual([]));
  });

  it('applies persistenceDuration to a reopen as to an open', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy(
      'slow',
      healthPolicy(['down'], { persistenceDuration: '800ms', clearDuration: '200ms' }),
    );
    await s.putNode('n1', 'down');
    await s.waitState('slow', 'n1', 'open', { timeoutMs: 5_000 });
    await s.putNode('n1', 'up');
    const resolved = await s.waitState('slow', 'n1', 'resolved');

    const t0 = Date.now();
    await s.putNode('n1', 'down');
    await until(t0, 300);
    const early = await s.alertFor('slow', 'n1');
    expect(early?.doc.spec.state, 'still resolved 300 ms into 800ms').toBe('resolved');
    expect(early?.modRevision).toBe(resolved.modRevision);

    const reopened = await s.waitState('slow', 'n1', 'open');
    expect(Date.parse(reopened.doc.meta.modTime) - t0).toBeGreaterThanOrEqual(790);
    expect(reopened.doc.status.totalHits).toBe(2);
  });
});

describe('object deleted early', () => {
  it('an object deleted while its persistenceDuration runs never opens an alert', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('slow', healthPolicy(['down'], { persistenceDuration: '800ms' }));
    const t0 = Date.now();
    await s.putNode('gone', 'down');
    await s.putNode('stays', 'down');
    await until(t0, 200);
    await s.deleteObject('Node', 'gone');
    // The object that stays opens at its deadline; the deleted one, due at the same time, not.
    await s.waitState('slow', 'stays', 'open');
    await holdsFor(400, async () => expect(await s.alertsFor('slow', 'gone')).toEqual([]));
  });
});

describe('resolve', () => {
  it('resolves after clearDuration, by System, keeping everything else', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: '1s' }));
    await s.putNode('n1', 'down');
    const opened = await s.waitState('node-down', 'n1', 'open');
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 1);

    const t0 = Date.now();
    await s.putNode('n1', 'up');
    await until(t0, 400);
    const mid = await s.alertFor('node-down', 'n1');
    expect(mid?.doc.spec.state, 'still open 400 ms into a 1s clearDuration').toBe('open');
    expect(mid?.modRevision).toBe(opened.modRevision);

    const resolved = await s.waitState('node-down', 'n1', 'resolved');
    expect(resolved.key).toBe(opened.key);
    expect(resolved.createRevision).toBe(opened.createRevision);
    expect(resolved.doc.spec).toEqual({ state: 'resolved' });
    expect(resolved.doc.status.resolved.user).toBe('System');
    const resolvedAt = Date.parse(resolved.doc.status.resolved.time);
    expect(resolvedAt - t0).toBeGreaterThanOrEqual(990);
    expect(resolved.doc.status).not.toHaveProperty('acknowledged');
    expect(resolved.doc.status.totalHits).toBe(1);
    for (const field of ['severity', 'message', 'objectRef', 'reason']) {
      expect(resolved.doc.status[field], field).toEqual(opened.doc.status[field]);
    }
    expect(resolved.doc.meta.creationTime).toBe(opened.doc.meta.creationTime);

    const status = await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 0);
    expect(status).toEqual({ totalHits: 1, openAlerts: 0, acknowledgedAlerts: 0, error: '' });
  });

  it('keeps the alert open, unwritten, when it matches again inside clearDuration', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: '1200ms' }));
    await s.putNode('n1', 'down');
    await s.putNode('n2', 'down');
    const n1 = await s.waitState('node-down', 'n1', 'open');
    await s.waitState('node-down', 'n2', 'open');

    const t0 = Date.now();
    await s.putNode('n1', 'up');
    await s.putNode('n2', 'up');
    // Give the daemon time to see n1 heal (its clear timer starts), then make it match again.
    await until(t0, 400);
    await s.putNode('n1', 'down');

    // n2, healed at the same moment and left healed, resolves: the daemon did see the heals.
    await s.waitState('node-down', 'n2', 'resolved');
    // Past n1's would-be clear deadline, with margin: n1 was never written.
    const check = async () => {
      const alert = (await s.alertFor('node-down', 'n1')) as StoredAlert;
      expect(alert.doc.spec.state).toBe('open');
      expect(alert.modRevision, 'no write to the alert that matched again').toBe(n1.modRevision);
    };
    await until(t0, 1_900);
    await holdsFor(300, check);
  });
});

describe('reopen', () => {
  it('reopens the same alert: totalHits 2, resolved and acknowledged removed', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy(
      'node-bad',
      healthPolicy([], {
        requirements: [{ key: 'status.health', operator: 'in', values: ['down', 'degraded'] }],
      }),
    );
    const policyId = await s.policyId('node-bad');
    await s.putNode('n1', 'down');
    const opened = await s.waitState('node-bad', 'n1', 'open');
    expect(opened.doc.status.reason.matchedRequirements[0].observedValue).toBe('down');

    const ack = await s.cli(['ack', opened.name, '--user', 'alice']);
    expect(ack.code, ack.stderr).toBe(0);
    await s.putNode('n1', 'up');
    const resolved = await s.waitState('node-bad', 'n1', 'resolved');
    expect(resolved.doc.status.acknowledged.user).toBe('alice');
    expect(resolved.doc.status.resolved.user).toBe('System');

    await s.putNode('n1', 'degraded');
    const reopened = await s.waitState('node-bad', 'n1', 'open');
    expect(reopened.key).toBe(opened.key);
    expect(reopened.createRevision, 'the same key, never deleted in between').toBe(
      opened.createRevision,
    );
    expectOpenAlert(reopened, {
      policyId,
      object: 'n1',
      severity: 'critical',
      message: 'node is down',
      matched: [
        {
          key: 'status.health',
          operator: 'in',
          values: ['down', 'degraded'],
          observedValue: 'degraded',
        },
      ],
      totalHits: 2,
    });
    expect(await s.alerts()).toHaveLength(1);

    const status = await s.waitPolicyStatus(
      'node-bad',
      (st) => st.totalHits === 2 && st.openAlerts === 1,
    );
    expect(status).toEqual({ totalHits: 2, openAlerts: 1, acknowledgedAlerts: 0, error: '' });
  });
});

describe('users', () => {
  it('keeps an acknowledgement, and the acknowledged alert still resolves when it clears', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: '300ms' }));
    await s.putNode('n1', 'down');
    const opened = await s.waitState('node-down', 'n1', 'open');

    const ack = await s.cli(['ack', opened.name, '--user', 'alice']);
    expect(ack.code, ack.stderr).toBe(0);
    const acked = (await s.alertFor('node-down', 'n1')) as StoredAlert;
    expect(acked.doc.spec).toEqual({ state: 'acknowledged' });
    expect(acked.doc.status.acknowledged.user).toBe('alice');
    expect(Number.isNaN(Date.parse(acked.doc.status.acknowledged.time))).toBe(false);

    const status = await s.waitPolicyStatus(
      'node-down',
      (st) => st.acknowledgedAlerts === 1 && st.openAlerts === 0,
    );
    expect(status).toEqual({ totalHits: 1, openAlerts: 0, acknowledgedAlerts: 1, error: '' });

    // The object changes but still matches: the daemon leaves the acknowledged alert alone.
    await s.putNode('n1', 'down', { rack: 'r2' });
    await holdsFor(600, async () => {
      const now = (await s.alertFor('node-down', 'n1')) as StoredAlert;
      expect(now.modRevision, 'the acknowledged alert is not rewritten').toBe(acked.modRevision);
    });

    await s.putNode('n1', 'up', { rack: 'r2' });
    const resolved = await s.waitState('node-down', 'n1', 'resolved');
    expect(resolved.doc.status.resolved.user).toBe('System');
    expect(resolved.doc.status.acknowledged).toEqual(acked.doc.status.acknowledged);
    expect(resolved.doc.status.totalHits).toBe(1);

    const after = await s.waitPolicyStatus('node-down', (st) => st.acknowledgedAlerts === 0);
    expect(after).toEqual({ totalHits: 1, openAlerts: 0, acknowledgedAlerts: 0, error: '' });
  });

  it("respects a user's resolve until the object is next evaluated and matches", async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: '300ms' }));
    await s.putNode('n1', 'down');
    const opened = await s.waitState('node-down', 'n1', 'open');

    const res = await s.cli(['resolve', opened.name, '--user', 'bob']);
    expect(res.code, res.stderr).toBe(0);
    const byBob = (await s.alertFor('node-down', 'n1')) as StoredAlert;
    expect(byBob.doc.spec).toEqual({ state: 'resolved' });
    expect(byBob.doc.status.resolved.user).toBe('bob');

    // Still matching, but nothing re-evaluates it: bob's resolve stands, unwritten.
    await holdsFor(800, async () => {
      const now = (await s.alertFor('node-down', 'n1')) as StoredAlert;
      expect(now.modRevision).toBe(byBob.modRevision);
    });
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 0);

    // An update of the object is an evaluation; it still matches, so the alert reopens.
    await s.putNode('n1', 'down', { touched: 'yes' });
    const reopened = await s.waitState('node-down', 'n1', 'open');
    expect(reopened.key).toBe(opened.key);
    expect(reopened.doc.status.totalHits).toBe(2);
    expect(reopened.doc.status).not.toHaveProperty('resolved');
  });
});

describe('garbage collection', () => {
  it('deletes resolved alerts once resolved longer than gcRetention, whoever resolved them', async () => {
    const s = scenario(etcd.server, 'lc');
    await s.start({ gcRetentionMs: 1_000, gcIntervalMs: 200 });
    await s.putPolicy('node-down', healthPolicy(['down'], { clearDuration: '200ms' }));
    for (const n of ['n1', 'n2', 'n3']) await s.putNode(n, 'down');
    for (const n of ['n1', 'n2', 'n3']) await s.waitState('node-down', n, 'open');

    await s.putNode('n1', 'up');
    const n2 = (await s.alertFor('node-down', 'n2')) as StoredAlert;
    const res = await s.cli(['resolve', n2.name, '--user', 'bob']);
    expect(res.code, res.stderr).toBe(0);
    const n3 = (await s.alertFor('node-down', 'n3')) as StoredAlert;
    const ack = await s.cli(['ack', n3.name, '--user', 'alice']);
    expect(ack.code, ack.stderr).toBe(0);

    const n1 = await s.waitState('node-down', 'n1', 'resolved');
    const n2resolved = (await s.alertFor('node-down', 'n2')) as StoredAlert;
    expect(n2resolved.doc.status.resolved.user).toBe('bob');
    const firstResolved = Math.min(
      Date.parse(n1.doc.status.resolved.time),
      Date.parse(n2resolved.doc.status.resolved.time),
    );
    // 600 ms after the earlier resolve (three GC passes at 200 ms), both are still kept.
    await until(firstResolved, 600);
    expect((await s.alertFor('node-down', 'n1'))?.doc.spec.state).toBe('resolved');
    expect((await s.alertFor('node-down', 'n2'))?.doc.spec.state).toBe('resolved');

    await s.waitNoAlert('node-down', 'n1');
    await s.waitNoAlert('node-down', 'n2');
    // The acknowledged alert is older than the retention too, but it is not resolved.
    await holdsFor(500, async () => {
      const alert = await s.alertFor('node-down', 'n3');
      expect(alert?.doc.spec.state).toBe('acknowledged');
    });
  });
});
