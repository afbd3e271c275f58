import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CompactedError } from '../../src/errors.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { GuardedWrite, Store, WatchError, WatchEvent } from '../../src/store/types.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';

/**
 * One suite, two adapters: whatever the memory store promises, real etcd must do too, and
 * the other way round, so code tested on one behaves the same on the other.
 */
interface Harness {
  store: Store;
  close(): Promise<void>;
}

const adapters: Array<[string, () => Promise<Harness>]> = [
  [
    'memory',
    () => {
      const store = new MemoryStore();
      return Promise.resolve({ store, close: () => store.close() });
    },
  ],
  [
    'etcd',
    async () => {
      const server: EtcdServer = await startEtcd();
      return { store: server.store, close: () => server.stop() };
    },
  ],
];

/** Collects a watch's output for assertions. */
function recorder() {
  const events: Array<WatchEvent & { revision: number }> = [];
  const progress: number[] = [];
  let error: WatchError | undefined;
  return {
    events,
    progress,
    get error() {
      return error;
    },
    handler: {
      onEvents(batch: WatchEvent[], revision: number) {
        progress.push(revision);
        for (const e of batch) events.push({ ...e, revision });
      },
      onError(e: WatchError) {
        error = e;
      },
    },
  };
}

const text = (value: Uint8Array) => Buffer.from(value).toString();

describe.each(adapters)('store contract: %s', (_name, create) => {
  let harness: Harness;
  let store: Store;
  let n = 0;
  /** A fresh prefix per test keeps tests independent on one server. */
  const prefix = () => `/t${++n}/`;

  beforeAll(async () => {
    harness = await create();
    store = harness.store;
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('tracks create and mod revisions and versions', async () => {
    const p = prefix();
    const r1 = await store.put(`${p}a`, 'one');
    const r2 = await store.put(`${p}a`, 'two');
    expect(r2).toBe(r1 + 1);

    const kv = await store.get(`${p}a`);
    expect(kv && text(kv.value)).toBe('two');
    expect(kv).toMatchObject({ createRevision: r1, modRevision: r2, version: 2 });

    await store.delete(`${p}a`);
    expect(await store.get(`${p}a`)).toBeUndefined();
    const r4 = await store.put(`${p}a`, 'three');
    expect(await store.get(`${p}a`)).toMatchObject({ createRevision: r4, version: 1 });
    expect(await store.currentRevision()).toBe(r4);
  });

  it('lists 20,000 keys of ~300 bytes in pages, all at one revision', async () => {
    const p = prefix();
    const body = 'x'.repeat(290);
    const keys = Array.from({ length: 20_000 }, (_, i) => `${p}obj-${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 128) {
      const writes = keys.slice(i, i + 128).map((key) => ({
        op: { type: 'put' as const, key, value: `{"b":"${body}"}` },
      }));
      await store.batch(writes);
    }

    const pages = [];
    let pageRevision = 0;
    for await (const page of store.listPages(p, { pageSize: 1_000 })) {
      if (pages.length === 0) {
        pageRevision = page.revision;
        // A write after the first page must not show up in the later ones.
        await store.put(`${p}obj-99999`, 'late');
      }
      pages.push(page);
      expect(page.revision).toBe(pageRevision);
    }

    const listed = pages.flatMap((page) => page.items.map((kv) => kv.key));
    expect(pages.length).toBe(20);
    expect(listed).toEqual(keys);
    expect(pageRevision).toBe((await store.currentRevision()) - 1);

    const all = await store.list(p, { pageSize: 5_000 });
    expect(all.items.length).toBe(20_001);
  });

  it('lists an empty prefix as one empty page with the current revision', async () => {
    const p = prefix();
    const page = await store.list(p);
    expect(page.items).toEqual([]);
    expect(page.revision).toBe(await store.currentRevision());
  });

  it('fails a paged list whose revision is compacted midway', async () => {
    const p = prefix();
    for (const k of ['a', 'b', 'c']) await store.put(`${p}${k}`, k);
    const pages = store.listPages(p, { pageSize: 1 });
    const first = await pages.next();
    expect(first.done).toBe(false);
    await store.put(`${p}d`, 'd');
    await store.compact(await store.currentRevision());
    await expect(pages.next()).rejects.toBeInstanceOf(CompactedError);
  });

  it('watches from an old revision, replaying history in order, then live', async () => {
    const p = prefix();
    const first = await store.put(`${p}a`, '1');
    await store.put(`${p}b`, '2');
    await store.put('/elsewhere/x', 'not watched');
    await store.delete(`${p}a`);

    const rec = recorder();
    const watch = store.watch(p, first, rec.handler);
    await waitFor(() => rec.events.length >= 3, { what: 'replayed events' });
    const live = await store.put(`${p}c`, '3');
    await waitFor(() => rec.events.length >= 4, { what: 'live event' });
    watch.cancel();

    expect(rec.events.map((e) => [e.type, e.type === 'put' ? e.kv.key : e.key])).toEqual([
      ['put', `${p}a`],
      ['put', `${p}b`],
      ['delete', `${p}a`],
      ['put', `${p}c`],
    ]);
    const revisions = rec.events.map((e) => e.revision);
    expect(revisions[0]).toBe(first);
    expect(revisions[3]).toBe(live);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    const deleted = rec.events[2]!;
    expect(deleted.type === 'delete' && deleted.prev && text(deleted.prev.value)).toBe('1');
    expect(rec.error).toBeUndefined();
  });

  it('delivers the writes of one transaction as one batch', async () => {
    const p = prefix();
    const rec = recorder();
    const watch = store.watch(p, (await store.currentRevision()) + 1, rec.handler);
    const { revision } = await store.batch([
      { op: { type: 'put', key: `${p}x`, value: '1' } },
      { op: { type: 'put', key: `${p}y`, value: '2' } },
    ]);
    await waitFor(() => rec.events.length >= 2, { what: 'batch events' });
    watch.cancel();
    expect(rec.events.map((e) => e.revision)).toEqual([revision, revision]);
    expect(rec.progress).toContain(revision);
  });

  it('stops delivering at once when a watch is cancelled', async () => {
    const p = prefix();
    const rec = recorder();
    const watch = store.watch(p, (await store.currentRevision()) + 1, rec.handler);
    await store.put(`${p}a`, '1');
    await waitFor(() => rec.events.length >= 1, { what: 'first event' });
    watch.cancel();
    await store.put(`${p}b`, '2');
    const marker = recorder();
    const probe = store.watch(p, (await store.currentRevision()) + 1, marker.handler);
    await store.put(`${p}c`, '3');
    await waitFor(() => marker.events.length >= 1, { what: 'probe event' });
    probe.cancel();
    expect(rec.events.length).toBe(1);
    expect(rec.error).toBeUndefined();
  });

  it('fails a watch from a compacted revision with a typed CompactedError', async () => {
    const p = prefix();
    const old = await store.put(`${p}a`, '1');
    await store.put(`${p}a`, '2');
    const now = await store.put(`${p}a`, '3');
    await store.compact(now);

    const rec = recorder();
    store.watch(p, old, rec.handler);
    await waitFor(() => rec.error, { what: 'compaction error' });
    expect(rec.error).toBeInstanceOf(CompactedError);
    expect(rec.error).toMatchObject({ code: 'E_COMPACTED', compactRevision: now });
    expect(rec.events).toEqual([]);

    // The compaction point itself is still watchable.
    const ok = recorder();
    const watch = store.watch(p, now, ok.handler);
    await waitFor(() => ok.events.length >= 1, { what: 'event at the compaction revision' });
    watch.cancel();
    expect(ok.error).toBeUndefined();
  });

  it('refuses a guarded transaction whose compare-and-swap is stale', async () => {
    const p = prefix();
    const created = await store.put(`${p}a`, '1');
    const stale = { key: `${p}a`, guard: { modRevision: created } };
    const first = await store.txn([stale], [{ type: 'put', key: `${p}a`, value: '2' }]);
    expect(first.succeeded).toBe(true);
    const second = await store.txn([stale], [{ type: 'put', key: `${p}a`, value: '3' }]);
    expect(second.succeeded).toBe(false);
    expect(text((await store.get(`${p}a`))!.value)).toBe('2');

    // modRevision 0 guards "does not exist yet": create-only.
    const absent = { key: `${p}new`, guard: { modRevision: 0 } };
    expect(
      (await store.txn([absent], [{ type: 'put', key: `${p}new`, value: 'x' }])).succeeded,
    ).toBe(true);
    expect(
      (await store.txn([absent], [{ type: 'put', key: `${p}new`, value: 'y' }])).succeeded,
    ).toBe(false);
  });

  it('applies each guarded write of a batch on its own, reporting refusals', async () => {
    const p = prefix();
    const rev = await store.put(`${p}kept`, 'old');
    await store.put(`${p}moved`, 'old');
    const result = await store.batch([
      { op: { type: 'put', key: `${p}kept`, value: 'new' }, guard: { modRevision: rev } },
      { op: { type: 'put', key: `${p}moved`, value: 'new' }, guard: { modRevision: rev } },
      { op: { type: 'delete', key: `${p}kept2` }, guard: { createRevision: 0 } },
      { op: { type: 'put', key: `${p}free`, value: 'new' } },
    ]);
    expect(result.results.map((r) => r.ok)).toEqual([true, false, true, true]);
    const refused = result.results[1]!;
    expect(refused.current && text(refused.current.value)).toBe('old');
    expect(text((await store.get(`${p}kept`))!.value)).toBe('new');
    expect(text((await store.get(`${p}moved`))!.value)).toBe('old');
    expect((await store.get(`${p}free`))!.modRevision).toBe(result.revision);
  });

  it('applies the companion writes of a guarded write exactly when it is applied', async () => {
    const p = prefix();
    const rev = await store.put(`${p}a`, 'old');
    await store.put(`${p}b`, 'old');
    const result = await store.batch([
      {
        op: { type: 'put', key: `${p}a`, value: 'new' },
        guard: { modRevision: rev },
        also: [{ type: 'put', key: `${p}a-record`, value: 'a changed' }],
      },
      {
        op: { type: 'put', key: `${p}b`, value: 'new' },
        guard: { modRevision: rev },
        also: [{ type: 'put', key: `${p}b-record`, value: 'b changed' }],
      },
    ]);
    expect(result.results.map((r) => r.ok)).toEqual([true, false]);
    expect((await store.get(`${p}a-record`))!.modRevision).toBe(result.revision);
    expect(await store.get(`${p}b-record`)).toBeUndefined();
  });

  it('writes a batch of 128 in one transaction at one revision', async () => {
    const p = prefix();
    const before = await store.currentRevision();
    const writes: GuardedWrite[] = Array.from({ length: 128 }, (_, i) => ({
      op: { type: 'put', key: `${p}k${i}`, value: `v${i}` },
      guard: { modRevision: 0 },
    }));
    const result = await store.batch(writes);
    expect(result.revision).toBe(before + 1);
    expect(result.results.every((r) => r.ok)).toBe(true);
    const listed = await store.list(p);
    expect(listed.items.length).toBe(128);
    expect(new Set(listed.items.map((kv) => kv.modRevision))).toEqual(new Set([before + 1]));
  });
});
