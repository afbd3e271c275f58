import { describe, expect, it } from 'vitest';

import { holdsFor, scenario, type Scenario, useScenarioEtcd } from '../e2e/harness.js';
import { waitFor } from '../helpers/poll.js';

/**
 * A daemon starting over 20,000 objects of about 300 bytes each (6 MB: the initial list
 * must be read in pages, one range would pass gRPC's 4 MiB limit) and a policy that matches
 * 1,000 of them: it becomes ready and opens exactly those 1,000 alerts.
 */

const OBJECTS = 20_000;
/** One object in 20 matches the policy. */
const EVERY = 20;
const MATCHING = OBJECTS / EVERY;

const etcd = useScenarioEtcd();

const nodeName = (i: number) => `node-${String(i).padStart(5, '0')}`;

/** Node `i` as stored: labels, a little spec and status, about 300 bytes of JSON. */
function node(i: number): string {
  const name = nodeName(i);
  return JSON.stringify({
    kind: 'Node',
    meta: {
      name,
      tenant: 'default',
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      labels: { rack: `r${i % 50}`, zone: `z${i % 4}`, pool: i % EVERY === 0 ? 'hot' : 'cold' },
      creationTime: '2024-01-01T00:00:00Z',
    },
    spec: { index: i, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` },
    status: { health: 'down', conditions: [{ type: 'healthy', status: 'false' }] },
  });
}

/** Writes every object with `store.batch`, 128 puts a transaction; returns the total bytes. */
async function seed(s: Scenario): Promise<number> {
  let bytes = 0;
  for (let start = 0; start < OBJECTS; start += 128) {
    const ops = [];
    for (let i = start; i < Math.min(start + 128, OBJECTS); i++) {
      const value = node(i);
      bytes += value.length;
      ops.push({ op: { type: 'put' as const, key: s.key('Node', 'default', nodeName(i)), value } });
    }
    await etcd.server.store.batch(ops);
  }
  return bytes;
}

describe('scale', () => {
  it('starts over 20,000 objects and opens exactly the 1,000 alerts of its policy', async () => {
    const s = scenario(etcd.server, 'big');
    const bytes = await seed(s);
    expect(bytes / OBJECTS).toBeGreaterThan(250);
    expect(bytes / OBJECTS).toBeLessThan(350);
    expect(bytes).toBeGreaterThan(4 * 1024 * 1024);
    await s.putPolicy('hot-down', {
      resource: 'Node',
      severity: 'critical',
      message: 'a hot node is down',
      requirements: [
        { key: 'meta.labels.pool', operator: 'equals', values: ['hot'] },
        { key: 'status.health', operator: 'equals', values: ['down'] },
      ],
    });
    const matching = new Set(Array.from({ length: MATCHING }, (_, k) => nodeName(k * EVERY)));

    await s.start();
    let seen = 0;
    await waitFor(
      async () => {
        seen = (await s.alerts()).length;
        return seen >= MATCHING;
      },
      { timeoutMs: 40_000, intervalMs: 250, what: `${MATCHING} alerts` },
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; last saw ${seen}`);
    });
    // Nothing beyond them shows up a moment later.
    await holdsFor(1_000, async () => expect((await s.alerts()).length).toBe(MATCHING), 250);

    const alerts = await s.alerts();
    const id = await s.policyId('hot-down');
    expect(new Set(alerts.map((a) => a.doc.status.objectRef.name))).toEqual(matching);
    for (const a of alerts) {
      expect(a.doc.spec.state).toBe('open');
      expect(a.doc.status.reason.policyId).toBe(id);
      expect(a.doc.status.totalHits).toBe(1);
    }
    await s.waitPolicyStatus(
      'hot-down',
      (st) => st.openAlerts === MATCHING && st.totalHits === MATCHING,
      { timeoutMs: 15_000 },
    );
  }, 60_000);
});
