import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError, WatchBacklogTooLargeError } from '../../src/errors.js';
import { EtcdStore, type WatchError } from '../../src/store/index.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';

/** Behaviour of the etcd adapter that the memory adapter has no counterpart for. */
describe('EtcdStore watch liveness', () => {
  let server: EtcdServer;

  beforeAll(async () => {
    server = await startEtcd();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('fails a watch with StoreUnavailableError when a paused etcd stays silent', async () => {
    const store = new EtcdStore({
      endpoints: [server.endpoint],
      requestTimeoutMs: 500,
      watchProgressMs: 200,
    });
    const errors: WatchError[] = [];
    let events = 0;
    const watch = store.watch('/liveness/', (await store.currentRevision()) + 1, {
      onEvents: (batch) => (events += batch.length),
      onError: (error) => errors.push(error),
    });
    try {
      await server.store.put('/liveness/a', '1');
      await waitFor(() => events === 1, { what: 'the first event' });
      // Answered progress requests keep a quiet watch alive well past the silence limit.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(errors).toEqual([]);

      server.signal('SIGSTOP');
      const error = await waitFor(() => errors[0], { timeoutMs: 5_000, what: 'a watch error' });
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error.message).toMatch(/sent nothing on the watch/);
    } finally {
      server.signal('SIGCONT');
      watch.cancel();
      await store.close();
    }
  });

  it('fails a watch whose backlog does not fit in one message with a relist error', async () => {
    const store = new EtcdStore({ endpoints: [server.endpoint], maxReceiveBytes: 64 * 1024 });
    const from = (await server.store.currentRevision()) + 1;
    // 300 KiB of changes under the prefix, which etcd sends a new watch in one response.
    for (let i = 0; i < 3; i++) {
      await server.store.batch(
        Array.from({ length: 100 }, (_, j) => ({
          op: { type: 'put' as const, key: `/backlog/${i}-${j}`, value: 'x'.repeat(1024) },
        })),
      );
    }
    const errors: WatchError[] = [];
    const watch = store.watch('/backlog/', from, {
      onEvents: () => {},
      onError: (error) => errors.push(error),
    });
    try {
      const error = await waitFor(() => errors[0], { what: 'a watch error' });
      expect(error).toBeInstanceOf(WatchBacklogTooLargeError);
      // The same data listed in pages fits.
      const { items } = await store.list('/backlog/', { pageSize: 50 });
      expect(items).toHaveLength(300);
    } finally {
      watch.cancel();
      await store.close();
    }
  });
});
