import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import {
  DESTINATION_YAML,
  keysUnder,
  nodeObject,
  oneLineError,
  plantAlert,
  POLICY_YAML,
  policyObject,
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

async function setup(label: string) {
  const prefix = uniquePrefix(label);
  const run = cliFor(etcd.endpoint, prefix);
  return { prefix, run };
}

describe('delete KIND NAME', () => {
  it('deletes a policy, says so, and leaves everything else', async () => {
    const { prefix, run } = await setup('policy');
    const applied = await run(['apply', '-f', '-'], {
      stdin: `${POLICY_YAML}---\n${DESTINATION_YAML}`,
    });
    expect(applied.code).toBe(0);

    const result = await run(['delete', 'policy', 'node-down']);
    expect(result).toMatchObject({
      code: 0,
      stdout: 'alertpolicy/default/node-down deleted\n',
      stderr: '',
    });
    expect(await keysUnder(etcd.store, prefix)).toEqual([
      `${prefix}/AlertDestination/default/ops-file`,
    ]);
  });

  it('deletes through every alias of the alert kinds, and a managed kind as written', async () => {
    const { prefix, run } = await setup('aliases');
    const objects = [policyObject('p1'), policyObject('p2'), policyObject('p3'), nodeObject('n1')];
    expect((await run(['apply', '-f', '-'], { stdin: JSON.stringify(objects) })).code).toBe(0);
    expect((await run(['apply', '-f', '-'], { stdin: DESTINATION_YAML })).code).toBe(0);
    await plantAlert(etcd.store, prefix, { name: 'a1' });
    await plantAlert(etcd.store, prefix, { name: 'a2' });

    const deletions: Array<[string[], string]> = [
      [['delete', 'policies', 'p1'], 'alertpolicy/default/p1 deleted'],
      [['delete', 'AlertPolicy', 'p2'], 'alertpolicy/default/p2 deleted'],
      [['delete', 'alertpolicy', 'p3'], 'alertpolicy/default/p3 deleted'],
      [['delete', 'destination', 'ops-file'], 'alertdestination/default/ops-file deleted'],
      [['delete', 'alert', 'a1'], 'alert/default/a1 deleted'],
      [['delete', 'Alerts', 'a2'], 'alert/default/a2 deleted'],
      [['delete', 'Node', 'n1'], 'node/default/n1 deleted'],
    ];
    for (const [args, line] of deletions) {
      const result = await run(args);
      expect(result, args.join(' ')).toMatchObject({ code: 0, stdout: `${line}\n` });
    }
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('deletes only in the tenant asked for (--tenant, or ALERTMGR_TENANT)', async () => {
    const { prefix, run } = await setup('tenant');
    const objects = [nodeObject('n1'), nodeObject('n1', 'lab'), nodeObject('n1', 'edge')];
    expect((await run(['apply', '-f', '-'], { stdin: JSON.stringify(objects) })).code).toBe(0);

    const result = await run(['delete', 'Node', 'n1', '--tenant', 'lab']);
    expect(result).toMatchObject({ code: 0, stdout: 'node/lab/n1 deleted\n' });
    expect(await keysUnder(etcd.store, prefix)).toEqual([
      `${prefix}/Node/default/n1`,
      `${prefix}/Node/edge/n1`,
    ]);

    const fromEnv = await cli(['delete', 'Node', 'n1'], {
      env: {
        ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
        ALERTMGR_PREFIX: prefix,
        ALERTMGR_TENANT: 'edge',
      },
    });
    expect(fromEnv).toMatchObject({ code: 0, stdout: 'node/edge/n1 deleted\n' });
    expect(await keysUnder(etcd.store, prefix)).toEqual([`${prefix}/Node/default/n1`]);
  });

  it('fails with exit 1 and one line naming the object when it does not exist', async () => {
    const { prefix, run } = await setup('unknown');
    expect(
      (await run(['apply', '-f', '-'], { stdin: JSON.stringify(nodeObject('n1')) })).code,
    ).toBe(0);

    const result = await run(['delete', 'Node', 'n9']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const line = oneLineError(result.stderr);
    expect(line).toContain('n9');
    expect(line).toContain('not found');

    // Deleting twice: the second one finds nothing.
    expect((await run(['delete', 'Node', 'n1'])).code).toBe(0);
    const again = await run(['delete', 'Node', 'n1']);
    expect(again.code).toBe(1);
    expect(oneLineError(again.stderr)).toContain('n1');
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
  });

  it('refuses bad usage with exit 2 and deletes nothing', async () => {
    const { prefix, run } = await setup('usage');
    expect(
      (await run(['apply', '-f', '-'], { stdin: JSON.stringify(nodeObject('n1')) })).code,
    ).toBe(0);

    for (const args of [
      ['delete', 'Node'],
      ['delete'],
      ['delete', 'Node', 'n1/x'],
      ['delete', 'Node', 'n1', '--tenant', 'a/b'],
      ['delete', 'Node', 'n1', '--no-such-flag'],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
      oneLineError(result.stderr);
    }
    expect(await keysUnder(etcd.store, prefix)).toEqual([`${prefix}/Node/default/n1`]);
  });
});
