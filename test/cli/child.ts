import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, rmdir, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { waitFor } from '../helpers/poll.js';

/*
 * The CLI as a real process: `node bin/alertmgr.js ...` on a fresh build, with its output
 * collected, and etcd started on a port the test chose.
 */

export const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/alertmgr.js');

/** Newest modification time of the files a build reads. */
async function newestSource(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of await readdir(path)) {
    newest = Math.max(newest, await newestSource(join(path, entry)));
  }
  return newest;
}

const BUILD_LOCK = join(tmpdir(), `alertmgr-build-${Buffer.from(ROOT).toString('hex')}.lock`);
const BUILD_STAMP = join(tmpdir(), `alertmgr-build-${Buffer.from(ROOT).toString('hex')}.stamp`);
const BUILT_ENTRY = join(ROOT, 'dist', 'cli', 'index.js');

/**
 * Runs `npm run build` so that dist/ matches src/. Test files run in parallel; a lock keeps
 * two builds from rewriting dist/ under each other, and a file that finds dist/ already
 * built from the current sources (by the other file, a moment ago) does not build again, so
 * it never rewrites dist/ while the other file's processes load it.
 */
export async function buildOnce(): Promise<void> {
  await waitFor(
    async () => {
      try {
        await mkdir(BUILD_LOCK);
        return true;
      } catch {
        // A lock left by a killed run is stale after a minute.
        const info = await stat(BUILD_LOCK).catch(() => undefined);
        if (info && Date.now() - info.mtimeMs > 60_000) await rmdir(BUILD_LOCK).catch(() => {});
        return false;
      }
    },
    { timeoutMs: 90_000, intervalMs: 100, what: 'the build lock' },
  );
  try {
    const sources = Math.max(
      await newestSource(join(ROOT, 'src')),
      await newestSource(join(ROOT, 'tsconfig.json')),
      await newestSource(join(ROOT, 'tsconfig.build.json')),
    );
    const mtime = (path: string) =>
      stat(path).then(
        (info) => info.mtimeMs,
        () => 0,
      );
    // dist/ must still be that build (or a later one), not deleted or older.
    const stamp = await mtime(BUILD_STAMP);
    if (stamp > sources && (await mtime(BUILT_ENTRY)) >= stamp) return;
    // A build newer than every source (as `npm ci` leaves a fresh checkout) is used as it is:
    // rebuilding would rewrite dist/ under daemons other test files are starting from it.
    if ((await mtime(BUILT_ENTRY)) > sources) return;
    // The stamp carries the time the build started: a source saved during it is newer.
    const startedAt = new Date();
    try {
      await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT, timeout: 120_000 });
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      throw new Error(`npm run build failed:\n${stdout.slice(-4_000)}${stderr.slice(-2_000)}`);
    }
    await writeFile(BUILD_STAMP, startedAt.toISOString());
    await utimes(BUILD_STAMP, startedAt, startedAt);
  } finally {
    await rmdir(BUILD_LOCK).catch(() => {});
  }
}

/** The test's environment without any ALERTMGR_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('ALERTMGR_')) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface Proc {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal that killed it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  running(): boolean;
}

const started = new Set<ChildProcess>();

/** Starts `node bin/alertmgr.js <args>`. `killAll` in afterEach ends what a test left. */
export function alertmgr(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (done) => {
      child.on('close', (code, signal) => {
        started.delete(child);
        done({ code, signal, at: Date.now() });
      });
    },
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

/** The exit of `proc`, failing the test when it takes longer than `ms`. */
export async function exitWithin(proc: Proc, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Error(
          `process still running after ${ms} ms; stdout: ${proc.stdout().slice(-2_000)}; ` +
            `stderr: ${proc.stderr().slice(-2_000)}`,
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kills (SIGKILL) every process these helpers started that is still running. */
export async function killAll(): Promise<void> {
  const waits = [...started].map(
    (child) =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('close', () => done());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waits);
}

/** An HTTP GET on loopback: status and body, or undefined when nothing answers. */
export async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string; contentType: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    return {
      status: response.status,
      body: await response.text(),
      contentType: response.headers.get('content-type') ?? '',
    };
  } catch {
    return undefined;
  }
}

/** An etcd on a client port the test chose (the shared harness picks its own ports). */
export async function startEtcdOn(
  clientPort: number,
  peerPort: number,
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'alertmgr-cli-etcd-'));
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    'etcd',
    [
      '--name=late',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=late=${peer}`,
      '--log-level=error',
      '--logger=zap',
    ],
    { stdio: 'ignore' },
  );
  started.add(child);
  child.on('close', () => started.delete(child));
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((done) => {
          child.once('close', () => done());
          child.kill('SIGKILL');
        });
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
