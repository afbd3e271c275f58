import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { StoreUnavailableError } from '../../src/errors.js';
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
});
