import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_CONFIG, startDaemon, type Daemon } from '../../src/daemon/index.js';
import { DeliveryError } from '../../src/errors.js';
import type { Notification, Sink, SinkFactory } from '../../src/exporter/types.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { EtcdStore } from '../../src/store/index.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';

/**
 * Delivery through the whole daemon on a real etcd, with destination kinds registered the
 * way a user adds their own: a factory under a `<name>Export` key. The receivers are in this
 * process, so the test sees exactly what each one got.
 */

let server: EtcdServer;
let counter = 0;
const running: Array<{ daemon: Daemon; store: EtcdStore }> = [];
let lastMetrics: ReturnType<typeof createMetrics> | undefined;

beforeAll(async () => {
  server = await startEtcd();
});

afterEach(async () => {
  for (const { daemon, store } of running.splice(0)) {
    await daemon.stop();
    await store.close();
  }
});

afterAll(async () => {
  await server?.stop();
});

/** A receiver that records what it is sent, or refuses it while `refuse` says so. */
class Receiver {
  readonly got: Notification[] = [];
  refuse: (n: Notification) => boolean = () => false;
  hang = false;

  readonly factory: SinkFactory<{ label?: string }> = (): Sink => ({
    send: async (n) => {
      if (this.hang) return new Promise<void>(() => {});
      if (this.refuse(n)) {
        throw new DeliveryError('test', 'receiver down', { retryable: true });
      }
      this.got.push(n);
    },
    close: async () => {},
  });

  ids(): string[] {
    return this.got.map((n) => n.id);
  }
}

function world() {
  counter++;
  const prefix = `/delivery${counter}/objects`;
  const statePrefix = `/delivery${counter}/alertmgr`;
  const put = (kind: string, name: string, doc: object) =>
    server.store.put(`${prefix}/${kind}/default/${name}`, JSON.stringify(doc));
  return {
    prefix,
    statePrefix,
    node: (name: string, health: string) =>
      put('Node', name, { kind: 'Node', meta: { name }, status: { health } }),
    destination: (name: string, spec: object) =>
      put('AlertDestination', name, { kind: 'AlertDestination', meta: { name }, spec }),
    policy: (destinations: string[]) =>
      put('AlertPolicy', 'node-down', {
        kind: 'AlertPolicy',
        meta: { name: 'node-down' },
        spec: {
          resource: 'Node',
          severity: 'critical',
          requirements: [{ key: 'status.health', operator: 'equals', values: ['down'] }],
          clearDuration: '200ms',
          destinations,
        },
      }),
    start: async (sinks: Record<string, SinkFactory>) => {
      const store = new EtcdStore({ endpoints: [server.endpoint] });
      const metrics = createMetrics();
      lastMetrics = metrics;
      const daemon = await startDaemon({
        config: { ...DEFAULT_CONFIG, prefix, statePrefix, etcdEndpoints: [server.endpoint] },
        store,
        log: silentLogger(),
        metrics,
        sinks,
        // A receiver that hangs would hold every stop for the full 10 s otherwise.
        drainMs: 1_000,
      });
      running.push({ daemon, store });
      await waitFor(() => daemon.isReady(), { what: 'the daemon to be ready' });
      return daemon;
    },
    outbox: async () => (await server.store.list(`${statePrefix}/outbox/`)).items,
    destinationStatus: async (name: string) => {
      const kv = await server.store.get(`${prefix}/AlertDestination/default/${name}`);
      return JSON.parse(Buffer.from(kv!.value).toString()).status as Record<string, unknown>;
    },
  };
}

describe('destination kinds added by the user', () => {
  it('sends every state change to a registered kind, once, and counts it in status', async () => {
    const w = world();
    const receiver = new Receiver();
    await w.destination('mine', { recordExport: { label: 'x' } });
    await w.policy(['mine']);
    await w.start({ recordExport: receiver.factory as SinkFactory });

    await w.node('n1', 'down');
    await waitFor(() => receiver.got.length === 1, { what: 'the open notification' });
    await w.node('n1', 'up');
    await waitFor(() => receiver.got.length === 2, { what: 'the resolved notification' });
    expect(receiver.got.map((n) => n.event)).toEqual(['open', 'resolved']);
    expect(receiver.ids()[0]).toMatch(/^node-down-n1-[0-9a-f]+:1:open$/);

    await waitFor(async () => (await w.destinationStatus('mine')).totalNotificationsSent === 2, {
      what: 'status.totalNotificationsSent = 2',
    });
    await waitFor(async () => (await w.outbox()).length === 0, { what: 'an empty outbox' });
  });

  it('keeps other destinations and the alerts going while one receiver hangs', async () => {
    const w = world();
    const stuck = new Receiver();
    stuck.hang = true;
    const healthy = new Receiver();
    await w.destination('stuck', { stuckExport: {} });
    await w.destination('healthy', { healthyExport: {} });
    await w.policy(['stuck', 'healthy']);
    await w.start({
      stuckExport: stuck.factory as SinkFactory,
      healthyExport: healthy.factory as SinkFactory,
    });

    for (let i = 0; i < 5; i++) await w.node(`n${i}`, 'down');
    await waitFor(() => healthy.got.length === 5, { what: 'five opens at the healthy one' });
    for (let i = 0; i < 5; i++) await w.node(`n${i}`, 'up');
    await waitFor(() => healthy.got.length === 10, { what: 'five resolves at the healthy one' });
    expect(stuck.got).toEqual([]);
    // The operator sees where notifications pile up.
    const text = await lastMetrics!.registry.metrics();
    expect(text).toContain('alertmgr_destination_queue{destination="default/stuck"} 10');
    expect(text).toContain('alertmgr_destination_queue{destination="default/healthy"} 0');
  });
});

describe('delivery across a crash', () => {
  it('delivers after a restart what was missed, and nothing that was delivered', async () => {
    const w = world();
    const first = new Receiver();
    // The receiver takes n1's notifications and is down for n2's.
    first.refuse = (n) => n.alert.status.objectRef.name === 'n2';
    await w.destination('mine', { recordExport: {} });
    await w.policy(['mine']);
    const daemon = await w.start({ recordExport: first.factory as SinkFactory });

    await w.node('n1', 'down');
    await w.node('n2', 'down');
    await waitFor(() => first.got.length === 1, { what: "n1's open" });
    // Delivered records go; n2's stays until it is delivered.
    await waitFor(async () => (await w.outbox()).length === 1, { what: 'one pending record' });

    // A crash: the stages stop where they are, nothing drains.
    daemon.supervisor.current!.stop();
    await daemon.stop();
    running.splice(0);

    const second = new Receiver();
    await w.start({ recordExport: second.factory as SinkFactory });
    await waitFor(() => second.got.length === 1, { what: "n2's open, sent again" });
    expect(second.got[0]!.alert.status.objectRef.name).toBe('n2');
    expect(second.got[0]!.event).toBe('open');
    await waitFor(async () => (await w.outbox()).length === 0, { what: 'an empty outbox' });
    // Nothing else arrives: n1's open was delivered before the crash.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(second.got).toHaveLength(1);
    expect(first.ids()).not.toContain(second.ids()[0]);
  });
});
