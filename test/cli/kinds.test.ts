import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findStoredKind } from '../../src/cli/kinds.js';
import type { ListOptions, Store } from '../../src/store/index.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { keysUnder, nodeObject, oneLineError, uniquePrefix } from './fixtures.js';
import { cliFor } from './harness.js';

/*
 * Managed kinds in another case or in the plural: `get node`, `get nodes` and `delete NODE`
 * find the `Node` objects, by looking the kind up among those present in etcd.
 */

let etcd: EtcdServer;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd?.stop();
});

function object(kind: string, name: string, tenant = 'default') {
  return { kind, meta: { name, tenant }, status: { health: 'up' } };
}

/** A prefix holding the given objects, and a CLI bound to it. */
async function seeded(label: string, objects: object[]) {
  const prefix = uniquePrefix(label);
  const run = cliFor(etcd.endpoint, prefix);
  const applied = await run(['apply', '-f', '-'], { stdin: JSON.stringify(objects) });
  expect(applied.code, applied.stderr).toBe(0);
  return { prefix, run };
}

/** A table without its AGE column, which may tick between two calls. */
function withoutAge(result: { code: number; stdout: string; stderr: string }) {
  const rows = result.stdout.split('\n').map((line) => line.trim().split(/\s+/).slice(0, -1));
  return { ...result, stdout: rows };
}

/** The NAME column of a table. */
function names(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(1)
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/)[0]!);
}

describe('get with a managed kind in another case or plural', () => {
  it('prints exactly what the exact kind prints', async () => {
    const { run } = await seeded('case', [
      nodeObject('n1'),
      nodeObject('n2'),
      nodeObject('n3', 'lab'),
      object('DistributedServiceCard', 'dsc-1'),
    ]);
    const exact = await run(['get', 'Node']);
    expect(exact.code, exact.stderr).toBe(0);
    expect(names(exact.stdout)).toEqual(['n1', 'n2']);

    for (const kind of ['node', 'NODE', 'nodes', 'Nodes', 'NODES']) {
      const result = await run(['get', kind]);
      expect(withoutAge(result), kind).toEqual(withoutAge(exact));
    }
    const cards = await run(['get', 'distributedservicecards']);
    expect(cards.code, cards.stderr).toBe(0);
    expect(names(cards.stdout)).toEqual(['dsc-1']);

    const allTenants = await run(['get', 'nodes', '-A', '-o', 'json']);
    expect(allTenants.code).toBe(0);
    expect(JSON.parse(allTenants.stdout).items.map((item: any) => item.meta.name)).toEqual([
      'n1',
      'n2',
      'n3',
    ]);
  });

  it('finds one object by NAME, in JSON and in a table', async () => {
    const { run } = await seeded('one', [nodeObject('n1'), nodeObject('n2', 'lab')]);
    const exact = await run(['get', 'Node', 'n1', '-o', 'json']);
    expect(exact.code).toBe(0);
    expect(await run(['get', 'node', 'n1', '-o', 'json'])).toEqual(exact);
    expect(await run(['get', 'nodes', 'n2', '--tenant', 'lab'])).toMatchObject({ code: 0 });

    const missing = await run(['get', 'node', 'n9']);
    expect(missing.code).toBe(1);
    const line = oneLineError(missing.stderr);
    expect(line).toContain('n9');
    expect(line).toContain('not found');
  });

  it('keeps a kind whose name only starts like another apart from it', async () => {
    const { run } = await seeded('boundary', [
      nodeObject('n1'),
      object('NodeGroup', 'g1'),
      object('Nodegroups', 'weird'),
    ]);
    expect(names((await run(['get', 'node'])).stdout)).toEqual(['n1']);
    expect(names((await run(['get', 'nodegroup'])).stdout)).toEqual(['g1']);
    // A kind that is itself spelled as a plural wins over the singular reading of it.
    expect(names((await run(['get', 'NODEGROUPS'])).stdout)).toEqual(['weird']);
  });

  it('reads simple plurals: -s, -es and -ies', async () => {
    const { run } = await seeded('plurals', [
      object('Switch', 'sw1'),
      object('Proxy', 'px1'),
      object('Status', 'st1'),
    ]);
    expect(names((await run(['get', 'switches'])).stdout)).toEqual(['sw1']);
    expect(names((await run(['get', 'proxies'])).stdout)).toEqual(['px1']);
    expect(names((await run(['get', 'status'])).stdout)).toEqual(['st1']);
    expect(names((await run(['get', 'statuses'])).stdout)).toEqual(['st1']);
  });

  it('refuses a kind that matches two kinds differing only in case, unless written exactly', async () => {
    const { run } = await seeded('ambiguous', [object('Node', 'a'), object('NODE', 'b')]);
    for (const kind of ['node', 'nodes']) {
      const result = await run(['get', kind]);
      expect(result.code, kind).toBe(2);
      expect(result.stdout).toBe('');
      const line = oneLineError(result.stderr);
      expect(line).toContain('NODE, Node');
    }
    expect(names((await run(['get', 'Node'])).stdout)).toEqual(['a']);
    expect(names((await run(['get', 'NODE'])).stdout)).toEqual(['b']);
  });

  it('says nothing was found, as before, for a kind that matches nothing', async () => {
    const { run } = await seeded('none', [nodeObject('n1')]);
    const result = await run(['get', 'gadgets']);
    expect(result).toMatchObject({ code: 0, stdout: '' });
    expect(oneLineError(result.stderr)).toBe('no gadgets objects found in tenant "default"');

    const named = await run(['get', 'gadget', 'g1']);
    expect(named.code).toBe(1);
    expect(oneLineError(named.stderr)).toContain('g1');
  });
});

describe('delete with a managed kind in another case or plural', () => {
  it('deletes the object of the kind found, and names it as it is stored', async () => {
    const { prefix, run } = await seeded('delete', [
      nodeObject('n1'),
      nodeObject('n2'),
      nodeObject('n1', 'lab'),
      object('Switch', 'sw1'),
    ]);
    expect(await run(['delete', 'node', 'n1'])).toMatchObject({
      code: 0,
      stdout: 'node/default/n1 deleted\n',
      stderr: '',
    });
    expect(await run(['delete', 'NODES', 'n1', '--tenant', 'lab'])).toMatchObject({
      code: 0,
      stdout: 'node/lab/n1 deleted\n',
    });
    expect(await run(['delete', 'switches', 'sw1'])).toMatchObject({
      code: 0,
      stdout: 'switch/default/sw1 deleted\n',
    });
    expect(await keysUnder(etcd.store, prefix)).toEqual([`${prefix}/Node/default/n2`]);

    const missing = await run(['delete', 'node', 'n1']);
    expect(missing.code).toBe(1);
    expect(oneLineError(missing.stderr)).toContain('not found');
    const ambiguous = await seeded('delete-ambiguous', [object('Node', 'a'), object('NODE', 'a')]);
    expect((await ambiguous.run(['delete', 'node', 'a'])).code).toBe(2);
    expect(await keysUnder(etcd.store, ambiguous.prefix)).toHaveLength(2);
  });
});

describe('the kind lookup', () => {
  /** The store, counting the entries its lists return. */
  function counting(store: Store) {
    const counter = { items: 0, calls: 0 };
    const listPages = async function* (prefix: string, options?: ListOptions) {
      counter.calls += 1;
      for await (const page of store.listPages(prefix, options)) {
        counter.items += page.items.length;
        yield page;
      }
    };
    // The lookup only lists; nothing else of the store is reachable through this one.
    return { counter, store: { listPages } as unknown as Store };
  }

  it('reads a few keys per character of the kind, not the objects of the kinds', async () => {
    const prefix = uniquePrefix('cost');
    const writes = [];
    for (let i = 0; i < 300; i++) {
      writes.push(
        etcd.store.put(`${prefix}/Node/default/n${i}`, JSON.stringify(nodeObject(`n${i}`))),
      );
      const card = object('DistributedServiceCard', `d${i}`);
      writes.push(
        etcd.store.put(`${prefix}/DistributedServiceCard/default/d${i}`, JSON.stringify(card)),
      );
    }
    await Promise.all(writes);

    const { counter, store } = counting(etcd.store);
    expect(await findStoredKind(store, prefix, 'distributedservicecards')).toBe(
      'DistributedServiceCard',
    );
    expect(await findStoredKind(store, prefix, 'node')).toBe('Node');
    // Each probe reads at most one key: two per character (its lower and upper case), plus
    // the probes of the exact name and of where a singular ends.
    const characters = 'distributedservicecards'.length + 'node'.length;
    expect(counter.items).toBeLessThanOrEqual(counter.calls);
    expect(counter.calls).toBeLessThanOrEqual(2 * characters + 6);
    expect(counter.calls).toBeGreaterThan(0);

    const exact = counting(etcd.store);
    expect(await findStoredKind(exact.store, prefix, 'Node')).toBe('Node');
    expect(exact.counter).toEqual({ items: 1, calls: 1 });
  });
});
