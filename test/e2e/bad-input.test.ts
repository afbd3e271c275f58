import { describe, expect, it } from 'vitest';

import { waitFor } from '../helpers/poll.js';
import {
  healthPolicy,
  holdsFor,
  parse,
  scenario,
  type PolicySpec,
  useScenarioEtcd,
} from './harness.js';

/**
 * Invalid policies and malformed objects next to valid ones: the bad ones are reported and
 * skipped, the good ones keep working, and the daemon never stalls.
 */

const etcd = useScenarioEtcd();

/** Each of these fails validation for the reason in its name. */
const INVALID: Record<string, PolicySpec> = {
  'op-capitalised': healthPolicy([], {
    requirements: [{ key: 'status.health', operator: 'Equals', values: ['down'] }],
  }),
  'op-unknown': healthPolicy([], {
    requirements: [{ key: 'status.health', operator: 'like', values: ['down'] }],
  }),
  'empty-values': healthPolicy([], {
    requirements: [{ key: 'status.health', operator: 'equals', values: [] }],
  }),
  'empty-requirements': healthPolicy([], { requirements: [] }),
  'bad-persistence': healthPolicy(['down'], { persistenceDuration: 'soon' }),
  'bad-clear': healthPolicy(['down'], { clearDuration: '5 minutes' }),
  'negative-duration': healthPolicy(['down'], { persistenceDuration: '-1s' }),
  'gt-two-values': healthPolicy([], {
    requirements: [{ key: 'status.temp', operator: 'gt', values: ['1', '2'] }],
  }),
  'bad-key': healthPolicy([], {
    requirements: [{ key: 'status[health', operator: 'equals', values: ['down'] }],
  }),
  'no-resource': (() => {
    const { resource: _resource, ...rest } = healthPolicy(['down']);
    return rest as PolicySpec;
  })(),
  'bad-severity': healthPolicy(['down'], { severity: 'fatal' }),
};

describe('invalid policies', () => {
  it('get a status.error and make no alerts, while a valid policy next to them works', async () => {
    const s = scenario(etcd.server, 'bp');
    await s.start();
    await s.putNode('n1', 'down', { rack: 'r1' });
    await s.putNode('n2', 'down', { rack: 'r2' });
    for (const [name, spec] of Object.entries(INVALID)) await s.putPolicy(name, spec);
    await s.putPolicy('valid', healthPolicy(['down']));

    await s.waitState('valid', 'n1', 'open');
    await s.waitState('valid', 'n2', 'open');
    for (const name of Object.keys(INVALID)) {
      const status = await s
        .waitPolicyStatus(name, (st) => typeof st.error === 'string' && st.error.length > 0, {
          timeoutMs: 5_000,
        })
        .catch((err: unknown): Record<string, any> => ({ error: String(err), missing: true }));
      expect.soft(status.missing ? status.error : 'set', `${name}: status.error`).toBe('set');
      expect.soft(status.openAlerts ?? 0, `${name}: openAlerts`).toBe(0);
      expect.soft(status.totalHits ?? 0, `${name}: totalHits`).toBe(0);
    }
    const capitalised = await s.policy('op-capitalised');
    expect(capitalised.doc.status.error).toMatch(/Equals/);
    // Nothing but the valid policy's two alerts, even after a while.
    await holdsFor(500, async () => {
      const alerts = await s.alerts();
      expect(alerts.map((a) => a.doc.status.reason.policyId.split('/')[0]).sort()).toEqual([
        'valid',
        'valid',
      ]);
    });
    const valid = await s.waitPolicyStatus('valid', (st) => st.openAlerts === 2);
    expect(valid).toEqual({ totalHits: 2, openAlerts: 2, acknowledgedAlerts: 0, error: '' });
  });

  it('a fixed policy loses its error and starts alerting', async () => {
    const s = scenario(etcd.server, 'bp');
    await s.start();
    await s.putNode('n1', 'down');
    await s.putPolicy('node-down', INVALID['op-capitalised']!);
    await s.waitPolicyStatus('node-down', (st) => !!st.error);

    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.waitState('node-down', 'n1', 'open');
    const status = await s.waitPolicyStatus('node-down', (st) => st.error === '');
    expect(status).toEqual({ totalHits: 1, openAlerts: 1, acknowledgedAlerts: 0, error: '' });
  });
});

describe('malformed objects', () => {
  const malformed = (s: ReturnType<typeof scenario>, suffix: string) => {
    const good = (name: string) =>
      JSON.stringify({
        kind: 'Node',
        meta: { name, tenant: 'default' },
        status: { health: 'down' },
      });
    return [
      () => s.putRaw('Node', 'default', `json-${suffix}`, '{"kind": "Node", "status": {'),
      () => s.putRaw('Node', 'default', `utf8-${suffix}`, Buffer.from([0x7b, 0xff, 0x7d])),
      () => s.putRaw('Node', 'default', `array-${suffix}`, '[1, 2]'),
      // JSON that disagrees with its key: name, tenant, kind.
      () => s.putRaw('Node', 'default', `name-${suffix}`, good('someone-else')),
      () =>
        s.putRaw(
          'Node',
          'default',
          `tenant-${suffix}`,
          JSON.stringify({
            kind: 'Node',
            meta: { name: `tenant-${suffix}`, tenant: 'other' },
            status: { health: 'down' },
          }),
        ),
      () =>
        s.putRaw(
          'Node',
          'default',
          `kind-${suffix}`,
          JSON.stringify({
            kind: 'Card',
            meta: { name: `kind-${suffix}` },
            status: { health: 'down' },
          }),
        ),
      // A key that is not <Kind>/<tenant>/<name>.
      () => s.store.put(`${s.prefix}/Node/default/deep/${suffix}`, good(suffix)),
      () => s.store.put(`${s.prefix}/Node/${suffix}`, good(suffix)),
    ];
  };

  it('are skipped, before and after start-up, and valid objects next to them still alert', async () => {
    const s = scenario(etcd.server, 'bo');
    // Some already there when the daemon lists, some arriving on the watch.
    for (const write of malformed(s, 'early')) await write();
    await s.putNode('good1', 'down');
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.start();
    await s.waitState('node-down', 'good1', 'open');

    for (const write of malformed(s, 'late')) await write();
    await s.putNode('good2', 'down');
    await s.waitState('node-down', 'good2', 'open');

    // A policy created now re-evaluates every cached object: still only the good ones.
    await s.putPolicy('again', healthPolicy(['down']));
    await s.waitState('again', 'good1', 'open');
    await s.waitState('again', 'good2', 'open');

    await holdsFor(500, async () => {
      const objects = (await s.alerts()).map(
        (a) => `${a.doc.status.reason.policyId.split('/')[0]}:${a.doc.status.objectRef.name}`,
      );
      expect(objects.sort()).toEqual([
        'again:good1',
        'again:good2',
        'node-down:good1',
        'node-down:good2',
      ]);
    });

    // Still healthy: an object that goes from malformed to valid is picked up.
    await s.putNode('json-late', 'down');
    await s.waitState('node-down', 'json-late', 'open');
  });
});

describe('alerts alertmgr did not write', () => {
  it('ignores a copy of an alert under another name, so each pair keeps one alert', async () => {
    const s = scenario(etcd.server, 'foreign');
    await s.start();
    await s.putPolicy('node-down', healthPolicy(['down']));
    await s.putNode('n1', 'down');
    const real = await s.waitState('node-down', 'n1', 'open');
    const copy = await s.putRaw('Alert', 'default', 'dup-copy', JSON.stringify(real.doc));

    await s.putNode('n1', 'up');
    await waitFor(async () => parse((await s.store.get(real.key))!).spec.state === 'resolved', {
      what: 'the real alert to resolve',
    });
    const left = await s.store.get(s.key('Alert', 'default', 'dup-copy'));
    expect(left?.modRevision).toBe(copy);
    await s.waitPolicyStatus('node-down', (st) => st.openAlerts === 0 && st.totalHits === 1);
  });
});
