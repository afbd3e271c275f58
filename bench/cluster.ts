import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Etcd3 } from 'etcd3';

import { EtcdStore } from '../src/store/index.js';
import type { Cleanup } from './cleanup.js';

/**
 * The etcd the bench drives the daemon through: one it starts on free loopback ports with a
 * temporary data folder, or one given with `--etcd-endpoints`. Each scenario works under its
 * own key prefix, deleted when the scenario ends, so scenarios do not see each other's keys.
 */
export interface Cluster {
  readonly endpoint: string;
  /** "3.4.23"; "unknown" when /version does not answer. */
  readonly version: string;
  /** True when the bench started this etcd (and may compact it). */
  readonly owned: boolean;
  /** The etcd process, when the bench started it. */
  readonly pid: number | undefined;
  /** The bench's own client: seeding, driving, watching alerts. */
  readonly store: EtcdStore;
  /** Deletes every key under `prefix` and, on an owned etcd, compacts history. */
  dropPrefix(prefix: string): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function openCluster(
  endpoint: string | undefined,
  cleanup: Cleanup,
): Promise<Cluster> {
  if (endpoint) return connect(endpoint, undefined, cleanup, async () => {});
  const dataDir = await mkdtemp(join(tmpdir(), 'alertmgr-bench-etcd-'));
  const removeDir = cleanup.add(`remove ${dataDir}`, () =>
    rm(dataDir, { recursive: true, force: true }),
  );
  // The kernel picks two free ports; a rare clash with another starting server is retried.
  for (let attempt = 1; ; attempt++) {
    const client = `http://127.0.0.1:${await freePort()}`;
    const peer = `http://127.0.0.1:${await freePort()}`;
    const child = launch(dataDir, client, peer);
    const kill = cleanup.add(`stop etcd ${child.pid}`, () => stopProcess(child));
    try {
      await waitForEtcd(client, child);
      return await connect(client, child.pid, cleanup, async () => {
        await kill();
        await removeDir();
      });
    } catch (err) {
      await kill();
      // A port clash is worth another try; a missing binary is not.
      if (attempt >= 3 || child.pid === undefined) throw err;
    }
  }
}

function launch(dataDir: string, client: string, peer: string): ChildProcess {
  const args = [
    '--name=bench',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=bench=${peer}`,
    // Storms write a lot of history; the bench compacts between scenarios, and a roomy quota
    // keeps a long run from tripping etcd's NOSPACE alarm before that.
    '--quota-backend-bytes=8589934592',
    '--log-level=error',
    '--logger=zap',
  ];
  const child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.on('error', (err) => process.stderr.write(`etcd could not start: ${err.message}\n`));
  child.on('exit', (code, signal) => {
    if (code && signal === null) process.stderr.write(`etcd exited with ${code}: ${stderr}\n`);
  });
  return child;
}

async function waitForEtcd(endpoint: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.pid === undefined) {
      throw new Error('etcd could not be started: is it on PATH? (apt-get install etcd-server)');
    }
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`etcd on ${endpoint} did not become healthy`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function connect(
  endpoint: string,
  pid: number | undefined,
  cleanup: Cleanup,
  stopServer: () => Promise<void>,
): Promise<Cluster> {
  const store = new EtcdStore({ endpoints: [endpoint], requestTimeoutMs: 30_000 });
  const raw = new Etcd3({ hosts: [endpoint] });
  const closeClients = cleanup.add('close etcd clients', async () => {
    await store.close();
    raw.close();
  });
  await store.currentRevision();
  return {
    endpoint,
    version: await etcdVersion(endpoint),
    owned: pid !== undefined,
    pid,
    store,
    dropPrefix: async (prefix) => {
      await raw.delete().prefix(prefix).exec();
      if (pid !== undefined) await store.compact(await store.currentRevision());
    },
    stop: async () => {
      await closeClients();
      await stopServer();
    },
  };
}

async function etcdVersion(endpoint: string): Promise<string> {
  try {
    const res = await fetch(`${endpoint}/version`);
    const body = (await res.json()) as { etcdserver?: string };
    return body.etcdserver ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Signals a child (waking it first, should it be stopped) and waits for it to exit. A child
 * that never started has no pid, and is never signalled: Node would pass pid 0 to kill(2),
 * which signals the whole process group, the bench and its shell included.
 */
export function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (child.pid === undefined) return Promise.resolve();
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill(signal);
  });
}
