import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { Etcd3 } from 'etcd3';

import { EtcdStore } from '../../src/store/etcd.js';
import { startEtcd } from './etcd.js';
import { waitFor } from './poll.js';
import { freePort } from './ports.js';

/*
 * etcd servers that want more than a plain connection: one that speaks only TLS and demands a
 * client certificate, one with authentication enabled. Certificates are made with openssl for
 * each test file, in a temporary directory, and are valid for 127.0.0.1 only.
 */

/** Paths of the PEM files `makeCertificates` writes. */
export interface Certificates {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing the server has: trusting only it must fail. */
  readonly otherCa: string;
  remove(): Promise<void>;
}

export function assertOpensslInstalled(): void {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('openssl is not on PATH. Install it first, e.g. apt-get install openssl');
  }
}

const openssl = (args: string[], cwd: string) =>
  promisify(execFile)('openssl', args, { cwd, timeout: 30_000 });

/** EC keys: made in milliseconds, and etcd's Go TLS and Node's both take them. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    [
      'req',
      '-x509',
      ...NEW_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=alertmgr test ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/** A leaf certificate signed by `ca.crt`, with the extensions in `ext`. */
async function makeLeaf(dir: string, name: string, cn: string, ext: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(
    ['req', ...NEW_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`],
    dir,
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and an unrelated CA. */
export async function makeCertificates(): Promise<Certificates> {
  assertOpensslInstalled();
  const dir = await mkdtemp(join(tmpdir(), 'alertmgr-tls-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await makeCa(dir, 'ca');
    await makeCa(dir, 'other-ca');
    const leaf = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n';
    await makeLeaf(
      dir,
      'server',
      '127.0.0.1',
      `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n`,
    );
    await makeLeaf(dir, 'client', 'alertmgr', `${leaf}extendedKeyUsage=clientAuth\n`);
  } catch (err) {
    await remove();
    throw err;
  }
  const at = (name: string) => join(dir, name);
  return {
    dir,
    ca: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCa: at('other-ca.crt'),
    remove,
  };
}

export interface SecureEtcd {
  /** `https://127.0.0.1:<port>` for the TLS server, `http://…` for the auth one. */
  readonly endpoint: string;
  /** A client with full rights on this server, closed by `stop`. */
  readonly store: EtcdStore;
  stop(): Promise<void>;
}

/**
 * An etcd that serves clients over TLS only and requires a client certificate signed by the
 * test CA (`--client-cert-auth`). Peers talk plain HTTP on loopback; no client sees them.
 */
export async function startTlsEtcd(certs: Certificates): Promise<SecureEtcd> {
  for (let attempt = 1; ; attempt++) {
    const dataDir = await mkdtemp(join(tmpdir(), 'alertmgr-etcd-tls-'));
    try {
      return await launchTls(certs, dataDir, await freePort(), await freePort());
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      // A rare clash with another etcd picking the same free port is retried.
      if (attempt >= 3) throw err;
    }
  }
}

async function launchTls(
  certs: Certificates,
  dataDir: string,
  clientPort: number,
  peerPort: number,
): Promise<SecureEtcd> {
  const endpoint = `https://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    'etcd',
    [
      '--name=tls',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=tls=${peer}`,
      `--cert-file=${certs.serverCert}`,
      `--key-file=${certs.serverKey}`,
      `--trusted-ca-file=${certs.ca}`,
      '--client-cert-auth',
      '--log-level=error',
      '--logger=zap',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });

  const store = new EtcdStore({
    endpoints: [endpoint],
    requestTimeoutMs: 2_000,
    tls: {
      ca: await readFile(certs.ca),
      cert: await readFile(certs.clientCert),
      key: await readFile(certs.clientKey),
    },
  });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
        return (await store.currentRevision()) > 0;
      },
      { timeoutMs: 20_000, what: `etcd on ${endpoint}` },
    );
  } catch (err) {
    await store.close();
    await kill(child);
    throw err;
  }

  return {
    endpoint,
    store,
    stop: async () => {
      await store.close();
      await kill(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface AuthEtcd extends SecureEtcd {
  /** Adds a user whose role may read and write every key under each of `prefixes`. */
  addUser(name: string, password: string, prefixes: readonly string[]): Promise<void>;
}

/**
 * A plain-HTTP etcd with authentication enabled, set up as an operator would: a `root` user
 * with the root role, then `auth enable` through etcd's gRPC auth API. `store` is logged in as
 * root.
 */
export async function startAuthEtcd(rootPassword: string): Promise<AuthEtcd> {
  const server = await startEtcd();
  const admin = new Etcd3({ hosts: [server.endpoint] });
  let store: EtcdStore | undefined;
  try {
    await admin.user('root').create(rootPassword);
    await admin.user('root').addRole('root');
    await admin.auth.authEnable();
    admin.close();

    const rootAuth = { username: 'root', password: rootPassword };
    const root = new Etcd3({ hosts: [server.endpoint], auth: rootAuth });
    store = new EtcdStore({
      endpoints: [server.endpoint],
      requestTimeoutMs: 2_000,
      auth: rootAuth,
    });
    const ready = store;
    await waitFor(async () => (await ready.currentRevision()) > 0, {
      timeoutMs: 10_000,
      what: 'etcd to accept root',
    });

    return {
      endpoint: server.endpoint,
      store,
      addUser: async (name, password, prefixes) => {
        const role = await root.role(`${name}-role`).create();
        for (const prefix of prefixes) {
          await role.grant({ permission: 'Readwrite', range: root.range({ prefix }) });
        }
        await root.user(name).create(password);
        await root.user(name).addRole(role);
      },
      stop: async () => {
        root.close();
        await ready.close();
        // The helper's own client has no credentials now; its close needs none.
        await server.stop();
      },
    };
  } catch (err) {
    admin.close();
    await store?.close();
    await server.stop();
    throw err;
  }
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
