import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { EtcdStore } from '../../src/store/etcd.js';
import { waitFor } from './poll.js';
import { freePort } from './ports.js';

export interface EtcdServer {
  /** Client URL, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** A client on this server, closed by `stop`. */
  readonly store: EtcdStore;
  /** Sends a signal to the etcd process (SIGSTOP / SIGCONT to pause it). */
  signal(signal: NodeJS.Signals): void;
  /** Kills etcd and starts it again on the same ports and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'etcd is not on PATH. Install it first, e.g. on Debian/Ubuntu: apt-get install etcd-server';

/** Fails with a message that says how to install etcd when the binary is missing. */
export function assertEtcdInstalled(): void {
  const probe = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(INSTALL_HINT);
}

/**
 * Starts a real, single-member etcd on free loopback ports with its own temporary data
 * directory. Each test file starts its own, so files can run in parallel.
 */
export async function startEtcd(): Promise<EtcdServer> {
  assertEtcdInstalled();
  const dataDir = await mkdtemp(join(tmpdir(), 'alertmgr-etcd-'));
  // Two free ports picked by the kernel; a rare clash with another starting etcd is retried.
  for (let attempt = 1; ; attempt++) {
    const clientPort = await freePort();
    const peerPort = await freePort();
    try {
      return await launch(dataDir, clientPort, peerPort);
    } catch (err) {
      if (attempt >= 3) {
        await rm(dataDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

async function launch(dataDir: string, clientPort: number, peerPort: number): Promise<EtcdServer> {
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=test',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=test=${peer}`,
    '--log-level=error',
    '--logger=zap',
  ];
  let child = start(args);
  const store = new EtcdStore({ endpoints: [endpoint], requestTimeoutMs: 2_000 });

  const ready = async (proc: ChildProcess) => {
    // An etcd that exits (a port taken meanwhile) fails the start at once, for a retry on
    // other ports, rather than after the whole wait.
    let onExit: () => void = () => {};
    const exited = new Promise<never>((_, reject) => {
      onExit = () => reject(new Error(`etcd exited with ${proc.exitCode}`));
      if (proc.exitCode !== null) onExit();
      else proc.once('exit', onExit);
    });
    try {
      await Promise.race([
        exited,
        waitFor(async () => (await store.currentRevision()) > 0, {
          timeoutMs: 20_000,
          what: `etcd on ${endpoint}`,
        }),
      ]);
    } finally {
      proc.off('exit', onExit);
    }
  };
  try {
    await ready(child);
  } catch (err) {
    child.kill('SIGKILL');
    await store.close();
    throw err;
  }

  return {
    endpoint,
    dataDir,
    store,
    signal: (signal) => child.kill(signal),
    restart: async () => {
      await kill(child);
      child = start(args);
      await ready(child);
    },
    stop: async () => {
      await store.close();
      await kill(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function start(args: string[]): ChildProcess {
  const child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) {
      process.stderr.write(`etcd exited with ${code}: ${stderr}\n`);
    }
  });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
}
