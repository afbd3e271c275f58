import { userInfo } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { oneLineError, plantAlert, stored, uniquePrefix } from './fixtures.js';
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

/** Checks an audit record: the user, and a time this test saw pass. */
function expectAudit(record: any, user: string, from: number, to: number): void {
  expect(record?.user).toBe(user);
  expect(record?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  const time = Date.parse(record.time);
  expect(time).toBeGreaterThanOrEqual(from - 1_000);
  expect(time).toBeLessThanOrEqual(to + 1_000);
}

/** The stored alert without what ack/resolve are allowed to change. */
function untouchedPart(alert: any) {
  const { acknowledged: _a, resolved: _r, ...status } = alert.status;
  const { modTime: _m, ...meta } = alert.meta;
  return { kind: alert.kind, meta, status };
}

describe('ack', () => {
  it('acknowledges an open alert: spec.state and status.acknowledged with --user and a time', async () => {
    const { prefix, run } = await setup('ack');
    const key = await plantAlert(etcd.store, prefix, { name: 'node-down-n1-aaaa' });
    const before = await stored(etcd.store, key);

    const from = Date.now();
    const result = await run(['ack', 'node-down-n1-aaaa', '--user', 'alice']);
    const to = Date.now();
    expect(result).toMatchObject({
      code: 0,
      stdout: 'alert/default/node-down-n1-aaaa acknowledged\n',
      stderr: '',
    });

    const after = await stored(etcd.store, key);
    expect(after!.spec.state).toBe('acknowledged');
    expectAudit(after!.status.acknowledged, 'alice', from, to);
    expect(after!.status.resolved).toBeUndefined();
    expect(Date.parse(after!.meta.modTime)).toBeGreaterThanOrEqual(from - 1_000);
    // Everything else is written back as it was.
    expect(untouchedPart(after)).toEqual(untouchedPart(before));
  });

  it('takes the login name when --user is not given, and ALERTMGR_USER as the twin', async () => {
    const { prefix, run } = await setup('ack-user');
    const first = await plantAlert(etcd.store, prefix, { name: 'a-login' });
    const second = await plantAlert(etcd.store, prefix, { name: 'a-env' });

    // The harness gives the command an empty environment: no USER or LOGNAME to go by.
    expect((await run(['ack', 'a-login'])).code).toBe(0);
    expect((await stored(etcd.store, first))!.status.acknowledged.user).toBe(userInfo().username);

    const fromEnv = await run(['ack', 'a-env'], { env: { ALERTMGR_USER: 'bob' } });
    expect(fromEnv.code).toBe(0);
    expect((await stored(etcd.store, second))!.status.acknowledged.user).toBe('bob');
  });

  it('leaves an acknowledged alert alone: exit 0, "already acknowledged", nothing written', async () => {
    const { prefix, run } = await setup('ack-twice');
    const key = await plantAlert(etcd.store, prefix, { name: 'a1' });
    expect((await run(['ack', 'a1', '--user', 'alice'])).code).toBe(0);
    const revision = (await etcd.store.get(key))!.modRevision;

    const again = await run(['ack', 'a1', '--user', 'bob']);
    expect(again).toMatchObject({ code: 0, stdout: 'alert/default/a1 already acknowledged\n' });
    expect((await etcd.store.get(key))!.modRevision).toBe(revision);
    expect((await stored(etcd.store, key))!.status.acknowledged.user).toBe('alice');
  });

  it('fails with exit 1 and one line naming the alert when it does not exist', async () => {
    const { prefix, run } = await setup('ack-unknown');
    await plantAlert(etcd.store, prefix, { name: 'exists', tenant: 'lab' });

    const result = await run(['ack', 'no-such-alert', '--user', 'alice']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const line = oneLineError(result.stderr);
    expect(line).toContain('no-such-alert');
    expect(line).toContain('not found');

    // It exists in another tenant only.
    const elsewhere = await run(['ack', 'exists']);
    expect(elsewhere.code).toBe(1);
    expect(oneLineError(elsewhere.stderr)).toContain('exists');
  });

  it('refuses a resolved alert: exit 1, one line saying it is resolved, nothing written', async () => {
    // src/cli/alerts.ts: "only an open alert can be acknowledged"; a StateError is exit 1.
    const { prefix, run } = await setup('ack-resolved');
    const resolved = { user: 'System', time: '2024-05-01T12:05:00.000Z' };
    const key = await plantAlert(etcd.store, prefix, { name: 'r1', state: 'resolved', resolved });
    const revision = (await etcd.store.get(key))!.modRevision;

    const result = await run(['ack', 'r1', '--user', 'alice']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const line = oneLineError(result.stderr);
    expect(line).toContain('"r1"');
    expect(line).toContain('resolved');
    expect((await etcd.store.get(key))!.modRevision).toBe(revision);
    const after = await stored(etcd.store, key);
    expect(after!.spec.state).toBe('resolved');
    expect(after!.status.acknowledged).toBeUndefined();
    expect(after!.status.resolved).toEqual(resolved);
  });

  it('acts in the tenant given by --tenant', async () => {
    const { prefix, run } = await setup('ack-tenant');
    const lab = await plantAlert(etcd.store, prefix, { name: 'a1', tenant: 'lab' });
    const other = await plantAlert(etcd.store, prefix, { name: 'a1' });

    const result = await run(['ack', 'a1', '--tenant', 'lab', '--user', 'carol']);
    expect(result).toMatchObject({ code: 0, stdout: 'alert/lab/a1 acknowledged\n' });
    expect((await stored(etcd.store, lab))!.spec.state).toBe('acknowledged');
    expect((await stored(etcd.store, other))!.spec.state).toBe('open');
  });

  it('refuses bad usage with exit 2: no ALERT, an empty --user', async () => {
    const { prefix, run } = await setup('ack-usage');
    const key = await plantAlert(etcd.store, prefix, { name: 'a1' });
    for (const args of [['ack'], ['ack', 'a1', '--user', ''], ['ack', 'a1', '--user', '   ']]) {
      const result = await run(args);
      expect(result.code, JSON.stringify(args)).toBe(2);
      oneLineError(result.stderr);
    }
    expect((await stored(etcd.store, key))!.spec.state).toBe('open');
  });

  it('fails with exit 1 on a stored alert that is not valid, and leaves it', async () => {
    const { prefix, run } = await setup('ack-invalid');
    const key = `${prefix}/Alert/default/weird`;
    await etcd.store.put(key, JSON.stringify({ kind: 'Alert', spec: { state: 'firing' } }));
    const result = await run(['ack', 'weird']);
    expect(result.code).toBe(1);
    expect(oneLineError(result.stderr)).toContain(key);
    expect((await stored(etcd.store, key))!.spec.state).toBe('firing');
  });
});

describe('resolve', () => {
  it('resolves an open alert: spec.state and status.resolved with --user and a time', async () => {
    const { prefix, run } = await setup('resolve');
    const key = await plantAlert(etcd.store, prefix, { name: 'a1' });
    const before = await stored(etcd.store, key);

    const from = Date.now();
    const result = await run(['resolve', 'a1', '--user', 'alice']);
    const to = Date.now();
    expect(result).toMatchObject({ code: 0, stdout: 'alert/default/a1 resolved\n', stderr: '' });

    const after = await stored(etcd.store, key);
    expect(after!.spec.state).toBe('resolved');
    expectAudit(after!.status.resolved, 'alice', from, to);
    expect(after!.status.acknowledged).toBeUndefined();
    expect(untouchedPart(after)).toEqual(untouchedPart(before));
  });

  it('resolves an acknowledged alert and keeps who acknowledged it', async () => {
    const { prefix, run } = await setup('resolve-acked');
    const key = await plantAlert(etcd.store, prefix, { name: 'a1' });
    expect((await run(['ack', 'a1', '--user', 'alice'])).code).toBe(0);
    const acknowledged = (await stored(etcd.store, key))!.status.acknowledged;

    const from = Date.now();
    const result = await cli(['resolve', 'a1'], {
      env: {
        ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
        ALERTMGR_PREFIX: prefix,
        ALERTMGR_USER: 'bob',
      },
    });
    expect(result).toMatchObject({ code: 0, stdout: 'alert/default/a1 resolved\n' });
    const after = await stored(etcd.store, key);
    expect(after!.spec.state).toBe('resolved');
    expectAudit(after!.status.resolved, 'bob', from, Date.now());
    expect(after!.status.acknowledged).toEqual(acknowledged);
  });

  it('leaves a resolved alert alone: exit 0, "already resolved", nothing written', async () => {
    const { prefix, run } = await setup('resolve-twice');
    const resolved = { user: 'System', time: '2024-05-01T12:05:00.000Z' };
    const key = await plantAlert(etcd.store, prefix, { name: 'a1', state: 'resolved', resolved });
    const revision = (await etcd.store.get(key))!.modRevision;

    const result = await run(['resolve', 'a1', '--user', 'alice']);
    expect(result).toMatchObject({ code: 0, stdout: 'alert/default/a1 already resolved\n' });
    expect((await etcd.store.get(key))!.modRevision).toBe(revision);
    expect((await stored(etcd.store, key))!.status.resolved).toEqual(resolved);
  });

  it('fails with exit 1 and one line naming the alert when it does not exist', async () => {
    const { run } = await setup('resolve-unknown');
    const result = await run(['resolve', 'ghost']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(oneLineError(result.stderr)).toContain('ghost');
  });
});

describe('ack and resolve racing each other', () => {
  it('every command succeeds and the alert ends resolved, with both audit records', async () => {
    const { prefix, run } = await setup('race');
    const key = await plantAlert(etcd.store, prefix, { name: 'a1' });

    // Compare-and-swap: one of the two writes first; the other re-reads and decides again.
    const [ack, resolve] = await Promise.all([
      run(['ack', 'a1', '--user', 'alice']),
      run(['resolve', 'a1', '--user', 'bob']),
    ]);
    expect(resolve.code, resolve.stderr).toBe(0);
    const after = await stored(etcd.store, key);
    expect(after!.spec.state).toBe('resolved');
    expect(after!.status.resolved.user).toBe('bob');
    if (ack.code === 0) {
      // The ack went first, and resolve kept its record.
      expect(after!.status.acknowledged.user).toBe('alice');
    } else {
      // The resolve went first: acknowledging a resolved alert is refused.
      expect(ack.code).toBe(1);
      expect(after!.status.acknowledged).toBeUndefined();
    }
  });
});
