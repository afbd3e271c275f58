import { join, resolve } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { freePort } from '../helpers/ports.js';
import {
  DESTINATION_YAML,
  keysUnder,
  NODE_YAML,
  nodeObject,
  oneLineError,
  policyObject,
  POLICY_YAML,
  stored,
  tempDir,
  uniquePrefix,
  writeFiles,
} from './fixtures.js';
import { cli, cliFor } from './harness.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');

let etcd: EtcdServer;
let dir: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  dir = await tempDir();
  etcd = await startEtcd();
});

afterAll(async () => {
  await Promise.all([etcd?.stop(), dir?.remove()]);
});

/** A CLI on its own prefix, and a place for its files. */
async function setup(label: string) {
  const prefix = uniquePrefix(label);
  const root = join(dir.path, prefix.slice(1));
  await writeFiles(root, {});
  return { prefix, root, run: cliFor(etcd.endpoint, prefix) };
}

describe('apply -f', () => {
  it('applies a YAML file with several documents, creating each object once', async () => {
    const { prefix, root, run } = await setup('yaml-multi');
    const file = join(root, 'all.yaml');
    await writeFiles(root, {
      'all.yaml': `${DESTINATION_YAML}---\n${POLICY_YAML}---\n# only a comment\n---\n${NODE_YAML}`,
    });

    const before = Date.now();
    const result = await run(['apply', '-f', file]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toEqual([
      'alertdestination/default/ops-file created',
      'alertpolicy/default/node-down created',
      'node/default/n1 created',
    ]);

    expect(await keysUnder(etcd.store, prefix)).toEqual([
      `${prefix}/AlertDestination/default/ops-file`,
      `${prefix}/AlertPolicy/default/node-down`,
      `${prefix}/Node/default/n1`,
    ]);
    const policy = await stored(etcd.store, `${prefix}/AlertPolicy/default/node-down`);
    expect(policy).toMatchObject({
      kind: 'AlertPolicy',
      meta: { name: 'node-down', tenant: 'default' },
      spec: {
        resource: 'Node',
        severity: 'critical',
        requirements: [{ key: 'status.health', operator: 'equals', values: ['down'] }],
      },
    });
    // Timestamps are RFC 3339 and stamped by this apply.
    for (const field of ['creationTime', 'modTime']) {
      const time = Date.parse(policy!.meta[field]);
      expect(time, field).toBeGreaterThanOrEqual(before - 1_000);
      expect(time, field).toBeLessThanOrEqual(Date.now() + 1_000);
    }
    const node = await stored(etcd.store, `${prefix}/Node/default/n1`);
    expect(node).toMatchObject({ meta: { labels: { rack: 'r1' } }, status: { health: 'up' } });
  });

  it('says created, then unchanged, then configured, keeping the creation time', async () => {
    const { prefix, root, run } = await setup('outcomes');
    await writeFiles(root, { 'p.yaml': POLICY_YAML });
    const file = join(root, 'p.yaml');
    const key = `${prefix}/AlertPolicy/default/node-down`;

    expect((await run(['apply', '-f', file])).stdout).toBe(
      'alertpolicy/default/node-down created\n',
    );
    const first = await stored(etcd.store, key);
    const firstRevision = (await etcd.store.get(key))!.modRevision;

    const again = await run(['apply', '-f', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('alertpolicy/default/node-down unchanged\n');
    expect((await etcd.store.get(key))!.modRevision).toBe(firstRevision);

    await writeFiles(root, {
      'p.yaml': POLICY_YAML.replace('severity: critical', 'severity: warn'),
    });
    const changed = await run(['apply', '-f', file]);
    expect(changed).toMatchObject({
      code: 0,
      stdout: 'alertpolicy/default/node-down configured\n',
    });
    const second = await stored(etcd.store, key);
    expect(second!.spec.severity).toBe('warn');
    expect(second!.meta.creationTime).toBe(first!.meta.creationTime);
  });

  it('writes each object whole: a field left out of the input is gone', async () => {
    const { prefix, root, run } = await setup('whole');
    await writeFiles(root, { 'n.yaml': NODE_YAML });
    expect((await run(['apply', '-f', join(root, 'n.yaml')])).code).toBe(0);

    await writeFiles(root, { 'n.yaml': NODE_YAML.replace(/ {2}labels:\n {4}rack: r1\n/, '') });
    const result = await run(['apply', '-f', join(root, 'n.yaml')]);
    expect(result).toMatchObject({ code: 0, stdout: 'node/default/n1 configured\n' });
    const node = await stored(etcd.store, `${prefix}/Node/default/n1`);
    expect(node!.meta.labels).toBeUndefined();
    expect(node!.status).toEqual({ health: 'up' });
  });

  it('fills in the default tenant when meta.tenant is left out', async () => {
    const { prefix, root, run } = await setup('tenant-default');
    await writeFiles(root, { 'n.yaml': 'kind: Node\nmeta:\n  name: bare\n' });
    const result = await run(['apply', '-f', join(root, 'n.yaml')]);
    expect(result).toMatchObject({ code: 0, stdout: 'node/default/bare created\n' });
    expect((await stored(etcd.store, `${prefix}/Node/default/bare`))!.meta.tenant).toBe('default');
  });

  it('applies a directory: its .yaml, .yml and .json files in name order, not subdirectories', async () => {
    const { prefix, root, run } = await setup('dir');
    const manifests = join(root, 'manifests');
    await writeFiles(manifests, {
      'b-policy.yml': POLICY_YAML,
      'a-dest.yaml': DESTINATION_YAML,
      'c-nodes.json': JSON.stringify([nodeObject('n2'), nodeObject('n3', 'lab')]),
      'README.md': '# not a manifest\n',
      'notes.txt': 'kind: Node\nmeta:\n  name: from-txt\n',
      'nested/d.yaml': 'kind: Node\nmeta:\n  name: from-nested\n',
    });

    const result = await run(['apply', '-f', manifests]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toEqual([
      'alertdestination/default/ops-file created',
      'alertpolicy/default/node-down created',
      'node/default/n2 created',
      'node/lab/n3 created',
    ]);
    expect(await keysUnder(etcd.store, prefix)).toEqual([
      `${prefix}/AlertDestination/default/ops-file`,
      `${prefix}/AlertPolicy/default/node-down`,
      `${prefix}/Node/default/n2`,
      `${prefix}/Node/lab/n3`,
    ]);
  });

  it('applies a JSON file holding one object, and one holding {"items": [...]}', async () => {
    const { prefix, root, run } = await setup('json');
    await writeFiles(root, {
      'one.json': JSON.stringify(policyObject('p-json')),
      'list.json': JSON.stringify({
        items: [nodeObject('j1'), nodeObject('j2', 'default', 'down')],
      }),
    });

    const one = await run(['apply', '-f', join(root, 'one.json')]);
    expect(one).toMatchObject({ code: 0, stdout: 'alertpolicy/default/p-json created\n' });
    const list = await run(['apply', '-f', join(root, 'list.json')]);
    expect(list).toMatchObject({
      code: 0,
      stdout: 'node/default/j1 created\nnode/default/j2 created\n',
    });
    expect((await stored(etcd.store, `${prefix}/Node/default/j2`))!.status).toEqual({
      health: 'down',
    });
    expect((await stored(etcd.store, `${prefix}/AlertPolicy/default/p-json`))!.spec.message).toBe(
      'p-json fired',
    );
  });

  it('applies several -f sources in the order given', async () => {
    const { prefix, root, run } = await setup('repeat');
    await writeFiles(root, { 'n.yaml': NODE_YAML, 'p.json': JSON.stringify(policyObject('p2')) });
    const result = await run(['apply', '-f', join(root, 'p.json'), '-f', join(root, 'n.yaml')]);
    expect(result).toMatchObject({
      code: 0,
      stdout: 'alertpolicy/default/p2 created\nnode/default/n1 created\n',
    });
    expect(await keysUnder(etcd.store, prefix)).toHaveLength(2);
  });

  it('reads YAML from standard input with -f -', async () => {
    const { prefix, run } = await setup('stdin-yaml');
    const result = await run(['apply', '-f', '-'], { stdin: `${POLICY_YAML}---\n${NODE_YAML}` });
    expect(result).toMatchObject({
      code: 0,
      stdout: 'alertpolicy/default/node-down created\nnode/default/n1 created\n',
    });
    expect(await keysUnder(etcd.store, prefix)).toEqual([
      `${prefix}/AlertPolicy/default/node-down`,
      `${prefix}/Node/default/n1`,
    ]);
  });

  it('reads JSON from standard input with -f -', async () => {
    const { prefix, run } = await setup('stdin-json');
    const stdin = JSON.stringify([policyObject('p-in'), nodeObject('n-in')], null, 2);
    const result = await run(['apply', '-f', '-'], { stdin });
    expect(result).toMatchObject({
      code: 0,
      stdout: 'alertpolicy/default/p-in created\nnode/default/n-in created\n',
    });
    expect(await keysUnder(etcd.store, prefix)).toHaveLength(2);
  });

  it('takes the etcd endpoints and prefix from their ALERTMGR_* twins', async () => {
    const { prefix } = await setup('env');
    const result = await cli(['apply', '-f', '-'], {
      stdin: NODE_YAML,
      env: { ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint, ALERTMGR_PREFIX: prefix },
    });
    expect(result).toMatchObject({ code: 0, stdout: 'node/default/n1 created\n' });
    expect(await keysUnder(etcd.store, prefix)).toEqual([`${prefix}/Node/default/n1`]);
  });
});

describe('apply validates every document before writing any', () => {
  it('writes nothing when the third document of a file is invalid, and names file, document and field', async () => {
    const { prefix, root, run } = await setup('bad-third');
    const file = join(root, 'mixed.yaml');
    const bad = POLICY_YAML.replace('name: node-down', 'name: bad-op').replace(
      'operator: equals',
      'operator: Equals',
    );
    await writeFiles(root, { 'mixed.yaml': `${NODE_YAML}---\n${DESTINATION_YAML}---\n${bad}` });

    const result = await run(['apply', '-f', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const line = oneLineError(result.stderr);
    expect(line).toContain(file);
    expect(line).toContain('document 3');
    expect(line).toContain('spec.requirements[0].operator');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('writes nothing when a later file of a directory is invalid', async () => {
    const { prefix, root, run } = await setup('bad-dir');
    const manifests = join(root, 'm');
    await writeFiles(manifests, {
      '1-good.yaml': `${POLICY_YAML}---\n${NODE_YAML}`,
      '2-bad.json': JSON.stringify([
        nodeObject('ok'),
        { kind: 'Node', meta: { tenant: 'default' } },
      ]),
    });

    const result = await run(['apply', '-f', manifests]);
    expect(result.code).toBe(2);
    const line = oneLineError(result.stderr);
    expect(line).toContain(join(manifests, '2-bad.json'));
    expect(line).toContain('document 2');
    expect(line).toContain('meta.name');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('writes nothing when a later -f source is invalid', async () => {
    const { prefix, root, run } = await setup('bad-second-source');
    const badPolicy = policyObject('slow');
    (badPolicy.spec as Record<string, unknown>).clearDuration = '5 minutes';
    await writeFiles(root, { 'good.yaml': NODE_YAML, 'bad.json': JSON.stringify(badPolicy) });

    const result = await run([
      'apply',
      '-f',
      join(root, 'good.yaml'),
      '-f',
      join(root, 'bad.json'),
    ]);
    expect(result.code).toBe(2);
    const line = oneLineError(result.stderr);
    expect(line).toContain(join(root, 'bad.json'));
    expect(line).toContain('spec.clearDuration');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it.each([
    [
      'empty requirements',
      POLICY_YAML.replace(/requirements:[\s\S]*?(?=\s+destinations)/, 'requirements: []'),
      'spec.requirements',
    ],
    [
      'unknown severity',
      POLICY_YAML.replace('severity: critical', 'severity: loud'),
      'spec.severity',
    ],
    ['missing resource', POLICY_YAML.replace('  resource: Node\n', ''), 'spec.resource'],
    [
      'empty values',
      POLICY_YAML.replace('values: [down]', 'values: []'),
      'spec.requirements[0].values',
    ],
    [
      'relational operator with two values',
      POLICY_YAML.replace('operator: equals', 'operator: gt').replace('[down]', '[1, 2]'),
      'spec.requirements[0].values',
    ],
    ['destination without exports', DESTINATION_YAML.replace(/spec:[\s\S]*/, 'spec: {}\n'), 'spec'],
    ['missing kind', NODE_YAML.replace('kind: Node\n', ''), 'kind'],
    ['a name with a slash', NODE_YAML.replace('name: n1', 'name: a/b'), 'meta.name'],
    [
      'an Alert, which only alertmgr writes',
      'kind: Alert\nmeta:\n  name: a1\nspec:\n  state: open\n',
      'kind',
    ],
  ])('refuses %s (exit 2, nothing written)', async (_what, bad, field) => {
    const { prefix, run } = await setup('bad-each');
    const result = await run(['apply', '-f', '-'], { stdin: `${NODE_YAML}---\n${bad}` });
    expect(result.code).toBe(2);
    const line = oneLineError(result.stderr);
    expect(line).toContain(`<stdin>: document 2: ${field}: `);
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('refuses a YAML syntax error with exit 2 and a one-line message', async () => {
    const { prefix, root, run } = await setup('bad-yaml');
    await writeFiles(root, { 'broken.yaml': `${NODE_YAML}---\nkind: Node\nmeta: {name: [x\n` });
    const result = await run(['apply', '-f', join(root, 'broken.yaml')]);
    expect(result.code).toBe(2);
    const line = oneLineError(result.stderr);
    expect(line).toContain('broken.yaml');
    expect(line).toContain('document 2');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('refuses invalid JSON with exit 2', async () => {
    const { prefix, root, run } = await setup('bad-json');
    await writeFiles(root, { 'broken.json': '{"kind": "Node", "meta": {"name": "x"}' });
    const result = await run(['apply', '-f', join(root, 'broken.json')]);
    expect(result.code).toBe(2);
    expect(oneLineError(result.stderr)).toContain('broken.json');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('refuses the same object given twice', async () => {
    const { prefix, run } = await setup('dup');
    const result = await run(['apply', '-f', '-'], { stdin: `${NODE_YAML}---\n${NODE_YAML}` });
    expect(result.code).toBe(2);
    const line = oneLineError(result.stderr);
    expect(line).toContain('document 2');
    expect(line).toContain('node/default/n1');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('refuses a missing file, and a missing -f, with exit 2', async () => {
    const { root, run } = await setup('missing');
    const missing = join(root, 'nope.yaml');
    const result = await run(['apply', '-f', missing]);
    expect(result.code).toBe(2);
    expect(oneLineError(result.stderr)).toContain(missing);

    const none = await run(['apply']);
    expect(none.code).toBe(2);
    expect(oneLineError(none.stderr)).toContain('-f');
  });

  it('refuses input with no documents', async () => {
    const { run } = await setup('empty');
    const result = await run(['apply', '-f', '-'], { stdin: '# nothing here\n' });
    expect(result.code).toBe(2);
    oneLineError(result.stderr);
  });

  it('fails with exit 1 and a one-line error when etcd cannot be reached, after validating', async () => {
    const port = await freePort();
    const result = await cli(['apply', '-f', '-', '--etcd-endpoints', `http://127.0.0.1:${port}`], {
      stdin: NODE_YAML,
    });
    expect(result.code).toBe(1);
    oneLineError(result.stderr);
  });
});

describe('apply and status', () => {
  it("keeps an existing policy's status, which alertmgr writes, and ignores the input's", async () => {
    const { prefix, root, run } = await setup('status');
    const key = `${prefix}/AlertPolicy/default/node-down`;
    await writeFiles(root, { 'p.yaml': POLICY_YAML });
    expect((await run(['apply', '-f', join(root, 'p.yaml')])).code).toBe(0);

    // alertmgr writes the status.
    const daemonStatus = { totalHits: 7, openAlerts: 2, acknowledgedAlerts: 1, error: '' };
    const current = await stored(etcd.store, key);
    await etcd.store.put(key, JSON.stringify({ ...current, status: daemonStatus }));

    // The user changes the spec and (wrongly) sends a status of their own.
    const edited =
      POLICY_YAML.replace('message: node is down', 'message: node is really down') +
      'status:\n  totalHits: 0\n  openAlerts: 0\n  acknowledgedAlerts: 0\n  error: made up\n';
    await writeFiles(root, { 'p.yaml': edited });
    const result = await run(['apply', '-f', join(root, 'p.yaml')]);
    expect(result).toMatchObject({ code: 0, stdout: 'alertpolicy/default/node-down configured\n' });

    const after = await stored(etcd.store, key);
    expect(after!.spec.message).toBe('node is really down');
    expect(after!.status).toEqual(daemonStatus);
  });

  it('does not invent a status for a new policy from the input', async () => {
    const { prefix, run } = await setup('status-new');
    const result = await run(['apply', '-f', '-'], {
      stdin: `${POLICY_YAML}status:\n  totalHits: 99\n`,
    });
    expect(result.code).toBe(0);
    const policy = await stored(etcd.store, `${prefix}/AlertPolicy/default/node-down`);
    expect(policy!.status?.totalHits).not.toBe(99);
  });

  it("keeps an existing destination's status too", async () => {
    const { prefix, run } = await setup('dest-status');
    const key = `${prefix}/AlertDestination/default/ops-file`;
    expect((await run(['apply', '-f', '-'], { stdin: DESTINATION_YAML })).code).toBe(0);
    const status = { totalNotificationsSent: 12, lastError: 'disk full' };
    await etcd.store.put(key, JSON.stringify({ ...(await stored(etcd.store, key)), status }));

    const changed = DESTINATION_YAML.replace('alerts.jsonl', 'alerts-2.jsonl');
    expect((await run(['apply', '-f', '-'], { stdin: changed })).code).toBe(0);
    const after = await stored(etcd.store, key);
    expect(after!.spec.fileExport.path).toBe('/tmp/alertmgr-cli-test-alerts-2.jsonl');
    expect(after!.status).toEqual(status);
  });
});

describe('apply on the example manifests', () => {
  it('applies examples/ and then the heal example', async () => {
    const { prefix, run } = await setup('examples');
    const result = await run(['apply', '-f', EXAMPLES]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      'alertdestination/default/local-file created',
      'alertpolicy/default/card-down created',
      'alertpolicy/default/node-not-ready created',
      'alertpolicy/default/node-high-cpu created',
      'alertpolicy/default/gateway-clock-unsynced created',
      'distributedservicecard/default/dsc-rack1-01 created',
      'distributedservicecard/default/dsc-rack1-02 created',
      'distributedservicecard/default/dsc-rack2-01 created',
      'node/default/node-a created',
      'node/default/node-b created',
      'node/default/node-c created',
    ]);
    expect(await keysUnder(etcd.store, prefix)).toHaveLength(11);
    const card = await stored(etcd.store, `${prefix}/DistributedServiceCard/default/dsc-rack1-01`);
    expect(card!.meta.labels['app.kubernetes.io/name']).toBe('edge-gateway');

    const again = await run(['apply', '-f', EXAMPLES]);
    expect(again.code).toBe(0);
    expect(
      again.stdout
        .trim()
        .split('\n')
        .every((line) => line.endsWith(' unchanged')),
    ).toBe(true);

    const heal = await run(['apply', '-f', join(EXAMPLES, 'heal')]);
    expect(heal).toMatchObject({
      code: 0,
      stdout: 'distributedservicecard/default/dsc-rack1-02 configured\n',
    });
    const healed = await stored(
      etcd.store,
      `${prefix}/DistributedServiceCard/default/dsc-rack1-02`,
    );
    expect(healed!.status.health).toBe('up');
  });
});

describe('apply of what get shows', () => {
  it('refuses a destination holding the [redacted] placeholder instead of a secret', async () => {
    const { prefix, root, run } = await setup('redacted');
    const secret = (value: string) =>
      [
        'kind: AlertDestination',
        'meta: {name: hook, tenant: default}',
        'spec:',
        '  webhookExport:',
        '    url: http://127.0.0.1:9000/hook',
        `    headers: {Authorization: "${value}"}`,
        '',
      ].join('\n');
    await writeFiles(root, {
      'real.yaml': secret('Bearer s3cret'),
      'shown.yaml': secret('[redacted]'),
    });
    expect((await run(['apply', '-f', join(root, 'real.yaml')])).code).toBe(0);

    const shown = await run(['get', 'destination', 'hook', '-o', 'yaml']);
    expect(shown.stdout).toContain('[redacted]');
    expect(shown.stdout).not.toContain('s3cret');

    const back = await run(['apply', '-f', join(root, 'shown.yaml')]);
    expect(back.code).toBe(2);
    expect(oneLineError(back.stderr)).toMatch(/Authorization: holds \[redacted\]/);
    const kept = await stored(etcd.store, `${prefix}/AlertDestination/default/hook`);
    expect(kept?.spec.webhookExport.headers.Authorization).toBe('Bearer s3cret');
  });
});
