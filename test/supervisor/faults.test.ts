import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import type { Daemon } from '../../src/daemon/index.js';
import { createLogger } from '../../src/log.js';
import { waitFor } from '../helpers/poll.js';
import { healthPolicy, scenario, type Scenario, useScenarioEtcd } from '../e2e/harness.js';

/**
 * Fault tolerance against a real etcd: stage failures restart every stage from their
 * snapshots, a restarted process resumes from the snapshot it saved, and a snapshot that
 * cannot be used is dropped for a full list.
 */

/** Collects the daemon's JSON log lines, to see what an operator would see. */
class LogLines extends Writable {
  readonly lines: Array<Record<string, any>> = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, any>);
    }
    done();
  }

  has(msg: string): boolean {
    return this.lines.some((line) => line.msg === msg);
  }
}

const etcd = useScenarioEtcd();

async function startLogged(
  s: Scenario,
  overrides = {},
): Promise<{ daemon: Daemon; log: LogLines }> {
  const log = new LogLines();
  const daemon = await s.start(overrides, createLogger({ level: 'debug', destination: log }));
  return { daemon, log };
}

/** Three nodes, one down, one policy: one open alert. */
async function downNode(s: Scenario) {
  await s.putNode('n1', 'down');
  await s.putNode('n2', 'up');
  await s.putNode('n3', 'up');
  await s.putPolicy('node-down', healthPolicy());
  return s.waitState('node-down', 'n1', 'open');
}

describe('one-for-all restart', () => {
  it('restarts every stage from the snapshot when one stage throws, losing nothing', async () => {
    const s = scenario(etcd.server, 'crash');
    const { daemon, log } = await startLogged(s);
    const before = await downNode(s);

    daemon.supervisor.current!.injectFault('policy', new Error('injected'));
    await waitFor(() => log.has('resuming from snapshot'), { what: 'the restart' });
    await waitFor(() => daemon.isReady(), { what: 'ready again' });
    expect(log.lines.some((l) => l.msg === 'stage failed; restarting all stages')).toBe(true);
    // The carried snapshot replaced the list: the restart did not read etcd from scratch.
    expect(log.lines.filter((l) => l.msg === 'initial list loaded')).toHaveLength(2);

    // Nothing was rewritten by the restart, and the pipeline still works end to end.
    const same = await s.alertFor('node-down', 'n1');
    expect(same?.modRevision).toBe(before.modRevision);
    await s.putNode('n2', 'down');
    await s.waitState('node-down', 'n2', 'open');
    await s.putNode('n1', 'up');
    await s.waitState('node-down', 'n1', 'resolved');
    expect(await s.alerts()).toHaveLength(2);
  });

  it('keeps a persistence delay running across a restart instead of starting it again', async () => {
    const s = scenario(etcd.server, 'delay');
    const { daemon, log } = await startLogged(s);
    await s.putPolicy('node-down', healthPolicy(['down'], { persistenceDuration: '3s' }));
    await s.putNode('n1', 'down');
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    daemon.supervisor.current!.injectFault('alert', new Error('injected'));
    await waitFor(() => log.has('resuming from snapshot'), { what: 'the restart' });
    await s.waitState('node-down', 'n1', 'open', { timeoutMs: 10_000 });
    // Started afresh the delay would end 3 s after the restart, past 4.5 s from the write.
    expect(Date.now() - started).toBeLessThan(4_400);
  });

  it('exits with code 1 once the restart budget is spent', async () => {
    const s = scenario(etcd.server, 'budget');
    const { daemon } = await startLogged(s);
    const exited = Promise.race([
      daemon.done,
      new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000)),
    ]);
    // The default budget is 5 restarts in 60 s: the sixth failure in a row is one too many.
    for (let i = 1; i <= 6; i++) {
      const generation = await waitFor(() => daemon.supervisor.current, {
        what: `generation ${i}`,
      });
      generation.injectFault('watcher', new Error(`injected ${i}`));
      await waitFor(() => daemon.supervisor.current !== generation, { what: 'its failure' });
    }
    expect(await exited).toBe(1);
    expect(daemon.isReady()).toBe(false);
  });
});

describe('process restart from the saved snapshot', () => {
  it('resumes the watch from the snapshot and applies what changed while it was down', async () => {
    const s = scenario(etcd.server, 'resume');
    const first = await startLogged(s, { snapshotIntervalMs: 100 });
    await downNode(s);
    await s.putNode('n2', 'down');
    await s.waitState('node-down', 'n2', 'open');
    await first.daemon.stop();

    // While alertmgr is down: n1's card is removed, n2 heals, n3 breaks.
    await s.deleteObject('Node', 'n1');
    await s.putNode('n2', 'up');
    await s.putNode('n3', 'down');

    const second = await startLogged(s, { snapshotIntervalMs: 100 });
    expect(second.log.has('resuming from snapshot')).toBe(true);
    await s.waitNoAlert('node-down', 'n1');
    await s.waitState('node-down', 'n2', 'resolved');
    await s.waitState('node-down', 'n3', 'open');
  });

  it('relists and diffs when the snapshot revision was compacted while it was down', async () => {
    const s = scenario(etcd.server, 'compact');
    const first = await startLogged(s, { snapshotIntervalMs: 100 });
    await downNode(s);
    await first.daemon.stop();

    await s.deleteObject('Node', 'n1');
    await s.putNode('n3', 'down');
    await etcd.server.store.compact(await etcd.server.store.currentRevision());

    const second = await startLogged(s, { snapshotIntervalMs: 100 });
    expect(second.log.has('resuming from snapshot')).toBe(true);
    await waitFor(() => second.log.has('relisted after the watch broke'), { what: 'a relist' });
    await s.waitNoAlert('node-down', 'n1');
    await s.waitState('node-down', 'n3', 'open');
  });

  it('drops a snapshot that does not decode and rebuilds from a full list', async () => {
    const s = scenario(etcd.server, 'corrupt');
    const first = await startLogged(s, { snapshotIntervalMs: 100 });
    await downNode(s);
    await first.daemon.stop();

    const { items } = await etcd.server.store.list(`${s.statePrefix}/snapshots/watcher/`);
    const chunk = items.find((kv) => !kv.key.endsWith('/head'));
    expect(chunk).toBeDefined();
    const damaged = Buffer.from(chunk!.value);
    const middle = Math.floor(damaged.length / 2);
    damaged[middle] = damaged[middle]! ^ 0xff;
    await etcd.server.store.put(chunk!.key, damaged);
    await s.putNode('n3', 'down');

    const second = await startLogged(s, { snapshotIntervalMs: 0 });
    expect(second.log.has('snapshot dropped; listing etcd')).toBe(true);
    expect(second.log.has('resuming from snapshot')).toBe(false);
    await s.waitState('node-down', 'n3', 'open');
    expect(await s.alerts()).toHaveLength(2);
  });
});

describe('backpressure', () => {
  it('pauses the watch while downstream is behind and still ends on the right alerts', async () => {
    const s = scenario(etcd.server, 'storm');
    const { log } = await startLogged(s, { backlogHighWater: 20, backlogLowWater: 5 });
    await s.putPolicy('node-down', healthPolicy());
    await s.putNode('n0', 'up');
    await waitFor(async () => (await s.policy('node-down')).doc.status, { what: 'policy status' });

    // 40 rounds over 100 nodes, one transaction per round: 4,000 updates. Node i ends down
    // when i is a multiple of 10.
    for (let round = 0; round < 40; round++) {
      const last = round === 39;
      await etcd.server.store.batch(
        Array.from({ length: 100 }, (_, i) => ({
          op: {
            type: 'put' as const,
            key: s.key('Node', 'default', `n${i}`),
            value: JSON.stringify({
              kind: 'Node',
              meta: { name: `n${i}`, tenant: 'default' },
              status: { health: (last ? i % 10 === 0 : (i + round) % 2 === 0) ? 'down' : 'up' },
            }),
          },
        })),
      );
    }

    await waitFor(
      async () => {
        const open = (await s.alerts()).filter((a) => a.doc.spec.state === 'open');
        return open.length === 10;
      },
      { timeoutMs: 30_000, what: 'exactly the ten down nodes open' },
    ).catch(async (err) => {
      const all = await s.alerts();
      console.log(all.map((a) => `${a.doc.status.objectRef.name}:${a.doc.spec.state}`).join(' '));
      console.log(
        log.lines
          .filter((l) => l.level !== 'debug')
          .slice(-15)
          .map((l) => JSON.stringify(l))
          .join('\n'),
      );
      throw err;
    });
    const open = (await s.alerts()).filter((a) => a.doc.spec.state === 'open');
    expect(open.map((a) => a.doc.status.objectRef.name).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `n${i * 10}`).sort(),
    );
    expect(log.has('downstream is behind: pausing the watch')).toBe(true);
    expect(log.has('backlog drained: resuming the watch')).toBe(true);
  });
});
