import { describe, expect, it } from 'vitest';

import { waitFor } from '../helpers/poll.js';
import { holdsFor, putMany, scenario, type Scenario, useScenarioEtcd } from './harness.js';

/**
 * Many objects: 2,000 Nodes in four groups; a policy on one group must open exactly 500
 * alerts, one per object, whether it arrives after start-up or is there from the start.
 */

const etcd = useScenarioEtcd();

const OBJECTS = 2_000;
const GROUPS = 4;

async function seed(s: Scenario): Promise<Set<string>> {
  const matching = new Set<string>();
  const entries = [];
  for (let i = 0; i < OBJECTS; i++) {
    const name = `node-${String(i).padStart(4, '0')}`;
    const group = `g${i % GROUPS}`;
    if (group === 'g0') matching.add(name);
    entries.push({
      key: s.key('Node', 'default', name),
      value: JSON.stringify({
        kind: 'Node',
        meta: { name, tenant: 'default', labels: { group, rack: `r${i % 40}` } },
        spec: { index: i },
        status: { health: 'down', conditions: [{ type: 'healthy', status: 'false' }] },
      }),
    });
  }
  await putMany(s.store, entries);
  expect(matching.size).toBe(OBJECTS / GROUPS);
  return matching;
}

const policy = {
  resource: 'Node',
  severity: 'warn',
  message: 'group g0 is unhealthy',
  requirements: [
    { key: 'meta.labels.group', operator: 'equals', values: ['g0'] },
    { key: 'status.conditions[type=healthy].status', operator: 'equals', values: ['false'] },
  ],
  persistenceDuration: '0s',
  clearDuration: '1s',
};

async function expectExactly(s: Scenario, matching: Set<string>): Promise<void> {
  let seen = 0;
  await waitFor(
    async () => {
      seen = (await s.alerts()).length;
      return seen >= matching.size;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `${matching.size} alerts (last saw ${seen})` },
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last saw ${seen} alerts`);
  });
  // Nothing beyond the matching ones appears a moment later either.
  await holdsFor(500, async () => expect((await s.alerts()).length).toBe(matching.size));

  const alerts = await s.alerts();
  const id = await s.policyId('g0');
  const names = new Set(alerts.map((a) => a.name));
  expect(names.size, 'one alert per object').toBe(matching.size);
  expect(new Set(alerts.map((a) => a.doc.status.objectRef.name))).toEqual(matching);
  for (const a of alerts) {
    expect(a.doc.spec.state).toBe('open');
    expect(a.doc.status.totalHits).toBe(1);
    expect(a.doc.status.reason.policyId).toBe(id);
    expect(a.doc.status.reason.matchedRequirements.map((m: any) => m.observedValue)).toEqual([
      'g0',
      'false',
    ]);
  }
  const status = await s.waitPolicyStatus(
    'g0',
    (st) => st.openAlerts === matching.size && st.totalHits === matching.size,
    { timeoutMs: 15_000 },
  );
  expect(status).toEqual({
    totalHits: matching.size,
    openAlerts: matching.size,
    acknowledgedAlerts: 0,
    error: '',
  });
}

describe('scale', () => {
  it('a policy created over 2,000 existing objects opens exactly the 500 that match', async () => {
    const s = scenario(etcd.server, 'sc');
    const matching = await seed(s);
    await s.start();
    await s.putPolicy('g0', policy);
    await expectExactly(s, matching);
  });

  it('a daemon starting over 2,000 objects and the policy opens exactly the 500', async () => {
    const s = scenario(etcd.server, 'sc');
    const matching = await seed(s);
    await s.putPolicy('g0', policy);
    await s.start();
    await expectExactly(s, matching);
  });

  it('evaluates every write of a burst, the last one included', async () => {
    // Objects written one after another, each its own etcd revision and watch event, while
    // the daemon is busy with the previous ones. Each round waits for all its alerts.
    const s = scenario(etcd.server, 'sc');
    await s.start();
    await s.putPolicy('node-down', {
      resource: 'Node',
      requirements: [{ key: 'status.health', operator: 'equals', values: ['down'] }],
    });
    for (let round = 0; round < 10; round++) {
      const names = Array.from({ length: 6 }, (_, i) => `r${round}-n${i}`);
      for (const name of names) await s.putNode(name, 'down');
      let missing: string[] = [];
      await waitFor(
        async () => {
          const have = new Set((await s.alerts()).map((a) => a.doc.status.objectRef.name));
          missing = names.filter((n) => !have.has(n));
          return missing.length === 0;
        },
        { timeoutMs: 5_000, what: `round ${round}` },
      ).catch(() => {
        throw new Error(`round ${round}: no alert for ${missing.join(', ')} after 5 s`);
      });
    }
    expect(await s.alerts()).toHaveLength(60);
  });
});
