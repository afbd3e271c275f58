import { afterAll, afterEach, beforeAll, expect } from 'vitest';

import {
  DEFAULT_CONFIG,
  startDaemon,
  type Daemon,
  type DaemonConfig,
} from '../../src/daemon/index.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { EtcdStore, type KeyValue } from '../../src/store/index.js';
import { cliFor, type CliResult } from '../cli/harness.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { waitFor } from '../helpers/poll.js';

/**
 * End-to-end scenarios: one real etcd per test file, one prefix per test, and the daemon
 * started in-process on its own etcd client. Tests talk to the daemon through etcd only:
 * they write objects and policies and read alerts and policy status back.
 */

export const TENANT = 'default';

/** An alert as read back from etcd, with its revisions. */
export interface StoredAlert {
  readonly key: string;
  readonly name: string;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly doc: Record<string, any>;
}

export interface PolicySpec {
  resource: string;
  severity?: string;
  message?: string;
  requirements: Array<{ key: string; operator: string; values: unknown[] }>;
  persistenceDuration?: string;
  clearDuration?: string;
  enable?: boolean;
  destinations?: string[];
  [field: string]: unknown;
}

export interface ObjectFields {
  labels?: Record<string, string>;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

let counter = 0;
const live: Scenario[] = [];

/** A new scenario, stopped by `stopScenarios` (call it in afterEach). */
export function scenario(server: EtcdServer, tag: string): Scenario {
  const s = new Scenario(server, tag);
  live.push(s);
  return s;
}

/**
 * One real etcd for the whole test file, started before its first test and stopped after
 * its last, with every scenario's daemons stopped after each test. `server` is set once
 * the file's tests run.
 */
export function useScenarioEtcd(): { readonly server: EtcdServer } {
  const holder = {} as { server: EtcdServer };
  beforeAll(async () => {
    holder.server = await startEtcd();
  });
  afterEach(async () => {
    await stopScenarios();
  });
  afterAll(async () => {
    await holder.server?.stop();
  });
  return holder;
}

/** Stops the daemons of every scenario started since the last call. */
export async function stopScenarios(): Promise<void> {
  for (const s of live.splice(0)) await s.stopDaemons();
}

/** Daemon settings for tests: fast clears, no GC unless asked, a unique state prefix. */
function testConfig(prefix: string, statePrefix: string, endpoint: string): DaemonConfig {
  return {
    ...DEFAULT_CONFIG,
    etcdEndpoints: [endpoint],
    prefix,
    statePrefix,
    clearDurationMs: 500,
    logLevel: 'silent',
  };
}

/** One test's world: its own prefix in the shared etcd, and the daemons it started. */
export class Scenario {
  readonly prefix: string;
  readonly statePrefix: string;
  private readonly daemons: Array<{ daemon: Daemon; store: EtcdStore }> = [];

  constructor(
    readonly server: EtcdServer,
    tag: string,
  ) {
    counter++;
    this.prefix = `/${tag}${counter}/objects`;
    this.statePrefix = `/${tag}${counter}/alertmgr`;
  }

  get store(): EtcdStore {
    return this.server.store;
  }

  /** Starts a daemon on its own etcd client and waits until it is ready. */
  async start(
    overrides: Partial<DaemonConfig> = {},
    log: Logger = silentLogger(),
  ): Promise<Daemon> {
    const config = {
      ...testConfig(this.prefix, this.statePrefix, this.server.endpoint),
      ...overrides,
    };
    const store = new EtcdStore({ endpoints: [this.server.endpoint], requestTimeoutMs: 5_000 });
    const daemon = await startDaemon({
      config,
      store,
      log,
      metrics: createMetrics(),
    });
    this.daemons.push({ daemon, store });
    await waitFor(() => daemon.isReady(), { timeoutMs: 20_000, what: 'the daemon to be ready' });
    return daemon;
  }

  /** Stops every daemon this scenario started (graceful drain) and closes their clients. */
  async stopDaemons(): Promise<void> {
    const running = this.daemons.splice(0);
    for (const { daemon, store } of running) {
      await daemon.stop();
      await store.close();
    }
  }

  /**
   * Deletes alertmgr's own bookkeeping (snapshots) under the state prefix, so the next
   * daemon starts from etcd alone, as after a crash before any snapshot or a lost state.
   */
  async wipeState(): Promise<number> {
    const { items } = await this.store.list(`${this.statePrefix}/`);
    for (const kv of items) await this.store.delete(kv.key);
    return items.length;
  }

  key(kind: string, tenant: string, name: string): string {
    return `${this.prefix}/${kind}/${tenant}/${name}`;
  }

  /** Writes a managed object whole. Returns the revision of the write. */
  putObject(kind: string, name: string, fields: ObjectFields = {}, tenant = TENANT) {
    const doc = {
      kind,
      meta: { name, tenant, ...(fields.labels ? { labels: fields.labels } : {}) },
      spec: fields.spec ?? {},
      status: fields.status ?? {},
    };
    return this.store.put(this.key(kind, tenant, name), JSON.stringify(doc));
  }

  /** A Node whose `status.health` is `health`. */
  putNode(name: string, health: string, labels?: Record<string, string>, tenant = TENANT) {
    return this.putObject(
      'Node',
      name,
      { status: { health }, ...(labels ? { labels } : {}) },
      tenant,
    );
  }

  putRaw(kind: string, tenant: string, name: string, value: string | Uint8Array) {
    return this.store.put(this.key(kind, tenant, name), value);
  }

  deleteObject(kind: string, name: string, tenant = TENANT) {
    return this.store.delete(this.key(kind, tenant, name));
  }

  /** Writes a policy whole, keeping the status alertmgr wrote (as `apply` does). */
  async putPolicy(
    name: string,
    spec: PolicySpec,
    tenant = TENANT,
    meta: Record<string, unknown> = {},
  ) {
    const key = this.key('AlertPolicy', tenant, name);
    const existing = await this.store.get(key);
    const status = existing ? (parse(existing).status ?? undefined) : undefined;
    const doc = {
      kind: 'AlertPolicy',
      meta: { name, tenant, ...meta },
      spec,
      ...(status ? { status } : {}),
    };
    return this.store.put(key, JSON.stringify(doc));
  }

  deletePolicy(name: string, tenant = TENANT) {
    return this.store.delete(this.key('AlertPolicy', tenant, name));
  }

  async policy(name: string, tenant = TENANT): Promise<{ kv: KeyValue; doc: Record<string, any> }> {
    const kv = await this.store.get(this.key('AlertPolicy', tenant, name));
    if (!kv) throw new Error(`policy ${tenant}/${name} does not exist`);
    return { kv, doc: parse(kv) };
  }

  /** The policy id as the contract defines it for a policy without meta.uuid. */
  async policyId(name: string, tenant = TENANT): Promise<string> {
    const { kv, doc } = await this.policy(name, tenant);
    return `${name}/${doc.meta?.uuid ?? kv.createRevision}`;
  }

  /** Every alert under the prefix (in one tenant, or all). */
  async alerts(tenant?: string): Promise<StoredAlert[]> {
    const under = tenant ? `${this.prefix}/Alert/${tenant}/` : `${this.prefix}/Alert/`;
    const { items } = await this.store.list(under);
    return items.map((kv) => ({
      key: kv.key,
      name: kv.key.slice(kv.key.lastIndexOf('/') + 1),
      modRevision: kv.modRevision,
      createRevision: kv.createRevision,
      doc: parse(kv),
    }));
  }

  /** The alerts of one policy (by name) about one object (by name), in the policy's tenant. */
  async alertsFor(policy: string, object: string, tenant = TENANT): Promise<StoredAlert[]> {
    return (await this.alerts(tenant)).filter(
      (a) =>
        String(a.doc.status?.reason?.policyId ?? '').startsWith(`${policy}/`) &&
        a.doc.status?.objectRef?.name === object,
    );
  }

  /** The one alert of (policy, object); undefined when there is none; throws on two. */
  async alertFor(
    policy: string,
    object: string,
    tenant = TENANT,
  ): Promise<StoredAlert | undefined> {
    const found = await this.alertsFor(policy, object, tenant);
    if (found.length > 1) {
      throw new Error(
        `${found.length} alerts for ${policy} on ${object}: ${found.map((a) => a.name).join(', ')}`,
      );
    }
    return found[0];
  }

  /** Waits until the alert of (policy, object) exists and satisfies `ok`. */
  waitAlert(
    policy: string,
    object: string,
    ok: (alert: StoredAlert) => boolean = () => true,
    { tenant = TENANT, timeoutMs = 10_000, what = '' } = {},
  ): Promise<StoredAlert> {
    return waitFor(
      async () => {
        const alert = await this.alertFor(policy, object, tenant);
        return alert && ok(alert) ? alert : undefined;
      },
      { timeoutMs, what: what || `alert of ${policy} on ${object}` },
    );
  }

  waitState(
    policy: string,
    object: string,
    state: string,
    options: { tenant?: string; timeoutMs?: number } = {},
  ) {
    return this.waitAlert(policy, object, (a) => a.doc.spec?.state === state, {
      ...options,
      what: `alert of ${policy} on ${object} to be ${state}`,
    });
  }

  /** Waits until (policy, object) has no alert. */
  waitNoAlert(policy: string, object: string, { tenant = TENANT, timeoutMs = 10_000 } = {}) {
    return waitFor(async () => (await this.alertsFor(policy, object, tenant)).length === 0, {
      timeoutMs,
      what: `no alert of ${policy} on ${object}`,
    });
  }

  /** Waits until the policy's status satisfies `ok`; returns the status. */
  waitPolicyStatus(
    name: string,
    ok: (status: Record<string, any>) => boolean,
    { tenant = TENANT, timeoutMs = 10_000, what = '' } = {},
  ): Promise<Record<string, any>> {
    let last: unknown;
    return waitFor(
      async () => {
        const { doc } = await this.policy(name, tenant);
        last = doc.status;
        return doc.status && ok(doc.status) ? (doc.status as Record<string, any>) : undefined;
      },
      { timeoutMs, what: what || `status of policy ${name}` },
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; last status ${JSON.stringify(last)}`);
    });
  }

  /** Runs the CLI in-process against this scenario's etcd and prefix. */
  cli(args: string[]): Promise<CliResult> {
    return cliFor(this.server.endpoint, this.prefix)(args);
  }
}

export function parse(kv: KeyValue): Record<string, any> {
  return JSON.parse(Buffer.from(kv.value).toString()) as Record<string, any>;
}

/** The usual policy: Nodes whose status.health equals one of `values`. */
export function healthPolicy(
  values: unknown[] = ['down'],
  extra: Partial<PolicySpec> = {},
): PolicySpec {
  return {
    resource: 'Node',
    severity: 'critical',
    message: 'node is down',
    requirements: [{ key: 'status.health', operator: 'equals', values }],
    persistenceDuration: '0s',
    clearDuration: '300ms',
    ...extra,
  };
}

/**
 * Proves that nothing happens for `ms`: `check` must hold at every probe during the window
 * (a bounded wait, used only where the claim is that the daemon does *not* act).
 */
export async function holdsFor(
  ms: number,
  check: () => Promise<void> | void,
  intervalMs = 100,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    await check();
    if (Date.now() >= end) return;
    await sleep(Math.min(intervalMs, Math.max(1, end - Date.now())));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts the exact shape of an open alert for a Node, as the contract spells it. */
export function expectOpenAlert(
  alert: StoredAlert,
  expected: {
    policyId: string;
    object: string;
    tenant?: string;
    kind?: string;
    severity: string;
    message: string;
    matched: Array<{ key: string; operator: string; values: string[]; observedValue: string }>;
    totalHits: number;
  },
): void {
  const tenant = expected.tenant ?? TENANT;
  const { doc } = alert;
  expect(doc.kind).toBe('Alert');
  expect(doc.meta.name).toBe(alert.name);
  expect(doc.meta.tenant).toBe(tenant);
  expect(alert.key.split('/').slice(-2)).toEqual([tenant, alert.name]);
  expect(typeof doc.meta.creationTime).toBe('string');
  expect(Number.isNaN(Date.parse(doc.meta.creationTime))).toBe(false);
  expect(Number.isNaN(Date.parse(doc.meta.modTime))).toBe(false);
  expect(doc.spec).toEqual({ state: 'open' });
  expect(doc.status.severity).toBe(expected.severity);
  expect(doc.status.message).toBe(expected.message);
  expect(doc.status.objectRef).toEqual({
    kind: expected.kind ?? 'Node',
    tenant,
    name: expected.object,
  });
  expect(doc.status.reason).toEqual({
    policyId: expected.policyId,
    matchedRequirements: expected.matched,
  });
  expect(doc.status.totalHits).toBe(expected.totalHits);
  expect(doc.status).not.toHaveProperty('resolved');
  expect(doc.status).not.toHaveProperty('acknowledged');
}

/** Writes many objects quickly, in transactions of at most 128 puts. */
export async function putMany(
  store: EtcdStore,
  entries: ReadonlyArray<{ key: string; value: string }>,
): Promise<void> {
  for (let i = 0; i < entries.length; i += 128) {
    const chunk = entries.slice(i, i + 128);
    await store.batch(
      chunk.map((e) => ({ op: { type: 'put' as const, key: e.key, value: e.value } })),
    );
  }
}
