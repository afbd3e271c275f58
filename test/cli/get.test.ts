import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import {
  nodeObject,
  oneLineError,
  plantAlert,
  policyObject,
  stored,
  uniquePrefix,
} from './fixtures.js';
import { cli, cliFor } from './harness.js';

let etcd: EtcdServer;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

const WEBHOOK_SECRET = 'Bearer s3cret-token';

/**
 * A prefix holding two policies, a destination and a node in `default`, one of each in `lab`,
 * and an alert in each tenant.
 */
async function seeded(label: string) {
  const prefix = uniquePrefix(label);
  const run = cliFor(etcd.endpoint, prefix);
  const destination = {
    kind: 'AlertDestination',
    meta: { name: 'hook', tenant: 'default' },
    spec: {
      webhookExport: {
        url: 'https://ops:hunter2@127.0.0.1:9000/hook',
        headers: { Authorization: WEBHOOK_SECRET },
      },
      fileExport: { path: '/tmp/alertmgr-cli-get.jsonl' },
    },
  };
  const labDestination = {
    kind: 'AlertDestination',
    meta: { name: 'lab-file', tenant: 'lab' },
    spec: { fileExport: { path: '/tmp/alertmgr-cli-get-lab.jsonl' } },
  };
  const objects = [
    policyObject('p-crit', 'default', 'critical'),
    policyObject('p-warn', 'default', 'warn'),
    policyObject('p-lab', 'lab', 'info'),
    destination,
    labDestination,
    nodeObject('n1'),
    nodeObject('n2', 'lab'),
  ];
  const applied = await run(['apply', '-f', '-'], { stdin: JSON.stringify(objects) });
  expect(applied.code, applied.stderr).toBe(0);
  await plantAlert(etcd.store, prefix, { name: 'node-down-n1-0123456789' });
  await plantAlert(etcd.store, prefix, {
    name: 'node-down-n2-abcdefabcd',
    tenant: 'lab',
    state: 'acknowledged',
    acknowledged: { user: 'alice', time: '2024-05-01T12:01:00.000Z' },
  });
  return { prefix, run };
}

/** A table as rows of cells; the first row is the header. */
function table(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/));
}

describe('get KIND', () => {
  it('lists the policies of the default tenant as a table', async () => {
    const { prefix, run } = await seeded('policies');
    await etcd.store.put(
      `${prefix}/AlertPolicy/default/p-crit`,
      JSON.stringify({
        ...(await stored(etcd.store, `${prefix}/AlertPolicy/default/p-crit`)),
        status: { totalHits: 5, openAlerts: 2, acknowledgedAlerts: 1, error: '' },
      }),
    );

    const result = await run(['get', 'policies']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const rows = table(result.stdout);
    expect(rows[0]).toEqual(['NAME', 'RESOURCE', 'SEVERITY', 'OPEN', 'ACKED', 'HITS', 'ERROR']);
    expect(rows.slice(1).map((row) => row[0])).toEqual(['p-crit', 'p-warn']);
    expect(rows[1]).toEqual(['p-crit', 'Node', 'critical', '2', '1', '5', '-']);
  });

  it('lists alerts with their state, severity, policy and object', async () => {
    const { run } = await seeded('alerts');
    const result = await run(['get', 'alerts']);
    expect(result.code).toBe(0);
    const rows = table(result.stdout);
    expect(rows[0]).toEqual(['NAME', 'STATE', 'SEVERITY', 'POLICY', 'OBJECT', 'AGE']);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.slice(0, 5)).toEqual([
      'node-down-n1-0123456789',
      'open',
      'critical',
      'node-down',
      'Node/n1',
    ]);
    expect(rows[1]![5]).toMatch(/^\d+[smhd]$/);
  });

  it('lists a managed kind, taken exactly as written, with NAME TENANT AGE', async () => {
    const { run } = await seeded('managed');
    const result = await run(['get', 'Node']);
    expect(result.code).toBe(0);
    const rows = table(result.stdout);
    expect(rows[0]).toEqual(['NAME', 'TENANT', 'AGE']);
    expect(rows.slice(1).map((row) => row.slice(0, 2))).toEqual([['n1', 'default']]);
  });

  it('lists as JSON and YAML documents of the form {items: [...]}', async () => {
    const { prefix, run } = await seeded('list-docs');
    const expected = [
      await stored(etcd.store, `${prefix}/AlertPolicy/default/p-crit`),
      await stored(etcd.store, `${prefix}/AlertPolicy/default/p-warn`),
    ];

    const asJson = await run(['get', 'policies', '-o', 'json']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual({ items: expected });

    const asYaml = await run(['get', 'policies', '--output', 'yaml']);
    expect(asYaml.code).toBe(0);
    expect(parseYaml(asYaml.stdout)).toEqual({ items: expected });
  });

  it('prints an empty list as a message on stderr with exit 0, and as {items: []} in JSON', async () => {
    const { run } = await seeded('empty');
    const result = await run(['get', 'Switch']);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(oneLineError(result.stderr)).toContain('Switch');

    const asJson = await run(['get', 'Switch', '-o', 'json']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual({ items: [] });
  });
});

describe('get KIND NAME', () => {
  it('shows one object as a table, JSON or YAML', async () => {
    const { prefix, run } = await seeded('one');
    const expected = await stored(etcd.store, `${prefix}/AlertPolicy/default/p-warn`);

    const asTable = await run(['get', 'policy', 'p-warn']);
    expect(asTable.code).toBe(0);
    const rows = table(asTable.stdout);
    expect(rows).toHaveLength(2);
    expect(rows[1]!.slice(0, 3)).toEqual(['p-warn', 'Node', 'warn']);

    const asJson = await run(['get', 'policy', 'p-warn', '-o', 'json']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual(expected);

    const asYaml = await run(['get', 'policy', 'p-warn', '-o', 'yaml']);
    expect(asYaml.code).toBe(0);
    expect(parseYaml(asYaml.stdout)).toEqual(expected);
  });

  it('fails with exit 1 and one line naming the object when it does not exist', async () => {
    const { run } = await seeded('unknown');
    const result = await run(['get', 'policy', 'no-such-policy']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const line = oneLineError(result.stderr);
    expect(line).toContain('no-such-policy');
    expect(line).toContain('not found');

    // It exists, but in another tenant.
    const elsewhere = await run(['get', 'policy', 'p-lab']);
    expect(elsewhere.code).toBe(1);
    expect(oneLineError(elsewhere.stderr)).toContain('p-lab');

    const alert = await run(['get', 'alert', 'nope', '-o', 'json']);
    expect(alert.code).toBe(1);
    expect(alert.stdout).toBe('');
    oneLineError(alert.stderr);
  });
});

describe('tenants', () => {
  it('--tenant shows only that tenant, and ALERTMGR_TENANT is its twin', async () => {
    const { prefix, run } = await seeded('tenant');
    const result = await run(['get', 'policies', '--tenant', 'lab']);
    expect(result.code).toBe(0);
    expect(
      table(result.stdout)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(['p-lab']);

    const one = await run(['get', 'alert', 'node-down-n2-abcdefabcd', '--tenant', 'lab']);
    expect(one.code).toBe(0);
    expect(table(one.stdout)[1]!.slice(0, 2)).toEqual(['node-down-n2-abcdefabcd', 'acknowledged']);

    const fromEnv = await cli(['get', 'policies', '-o', 'json'], {
      env: {
        ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
        ALERTMGR_PREFIX: prefix,
        ALERTMGR_TENANT: 'lab',
      },
    });
    expect(fromEnv.code).toBe(0);
    expect(JSON.parse(fromEnv.stdout).items.map((p: any) => p.meta.name)).toEqual(['p-lab']);
  });

  it('-A lists every tenant, with a TENANT column', async () => {
    const { run } = await seeded('all');
    const result = await run(['get', 'policies', '-A']);
    expect(result.code).toBe(0);
    const rows = table(result.stdout);
    expect(rows[0]!.slice(0, 2)).toEqual(['TENANT', 'NAME']);
    expect(rows.slice(1).map((row) => `${row[0]}/${row[1]}`)).toEqual([
      'default/p-crit',
      'default/p-warn',
      'lab/p-lab',
    ]);

    const alerts = await run(['get', 'alerts', '--all-tenants', '-o', 'json']);
    expect(alerts.code).toBe(0);
    expect(
      JSON.parse(alerts.stdout)
        .items.map((a: any) => `${a.meta.tenant}/${a.spec.state}`)
        .sort(),
    ).toEqual(['default/open', 'lab/acknowledged']);

    const nodes = await run(['get', 'Node', '-A']);
    expect(
      table(nodes.stdout)
        .slice(1)
        .map((row) => `${row[1]}/${row[0]}`),
    ).toEqual(['default/n1', 'lab/n2']);
  });

  it('refuses -A with a NAME (exit 2)', async () => {
    const { run } = await seeded('all-name');
    const result = await run(['get', 'policy', 'p-crit', '-A']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    oneLineError(result.stderr);
  });
});

describe('output format', () => {
  it('refuses an unknown -o with exit 2 and one line naming the flag', async () => {
    const { run } = await seeded('bad-o');
    const result = await run(['get', 'policies', '-o', 'xml']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const line = oneLineError(result.stderr);
    expect(line).toContain('--output');
    expect(line).toContain('xml');

    const fromEnv = await run(['get', 'policies'], { env: { ALERTMGR_OUTPUT: 'wide' } });
    expect(fromEnv.code).toBe(2);
    expect(oneLineError(fromEnv.stderr)).toContain('ALERTMGR_OUTPUT');
  });

  it('never prints webhook header values or URL passwords', async () => {
    const { run } = await seeded('redact');
    for (const output of ['table', 'json', 'yaml']) {
      const result = await run(['get', 'destination', 'hook', '-o', output]);
      expect(result.code, output).toBe(0);
      expect(result.stdout, output).not.toContain('s3cret');
      expect(result.stdout, output).not.toContain('hunter2');
    }
    const asJson = JSON.parse((await run(['get', 'destination', 'hook', '-o', 'json'])).stdout);
    expect(asJson.spec.webhookExport.headers.Authorization).toBe('[redacted]');
    expect(asJson.spec.fileExport.path).toBe('/tmp/alertmgr-cli-get.jsonl');
  });

  it('shows destinations with the exports they carry', async () => {
    const { run } = await seeded('destinations');
    const rows = table((await run(['get', 'destinations'])).stdout);
    expect(rows[0]).toEqual(['NAME', 'EXPORTS', 'SENT', 'LAST-ERROR']);
    expect(rows[1]!.slice(0, 2)).toEqual(['hook', 'webhook,file']);
  });
});

describe('kind aliases', () => {
  it.each([
    ['AlertPolicy', ['policy', 'policies', 'Policy', 'POLICIES', 'alertpolicy', 'alertpolicies']],
    ['AlertDestination', ['destination', 'destinations', 'alertdestination', 'AlertDestinations']],
    ['Alert', ['alert', 'alerts', 'Alerts']],
  ])('%s is also %j', async (kind, aliases) => {
    const { run } = await seeded(`alias-${kind}`);
    const canonical = await run(['get', kind, '-A', '-o', 'json']);
    expect(canonical.code).toBe(0);
    expect(JSON.parse(canonical.stdout).items.length).toBeGreaterThan(0);
    for (const alias of aliases) {
      const result = await run(['get', alias, '-A', '-o', 'json']);
      expect(result, alias).toMatchObject({ code: 0, stdout: canonical.stdout });
    }
  });
});

describe('stored content that is not a valid object', () => {
  it('skips it in a list with a warning, and fails with exit 1 when asked for by name', async () => {
    const { prefix, run } = await seeded('invalid');
    await etcd.store.put(`${prefix}/Node/default/broken`, '{not json');

    const list = await run(['get', 'Node']);
    expect(list.code).toBe(0);
    expect(
      table(list.stdout)
        .slice(1)
        .map((row) => row[0]),
    ).toEqual(['n1']);
    expect(oneLineError(list.stderr)).toContain(`${prefix}/Node/default/broken`);

    const one = await run(['get', 'Node', 'broken']);
    expect(one.code).toBe(1);
    expect(oneLineError(one.stderr)).toContain(`${prefix}/Node/default/broken`);
  });
});
