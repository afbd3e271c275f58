import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import {
  makeCertificates,
  startTlsEtcd,
  type Certificates,
  type SecureEtcd,
} from '../helpers/etcd-secure.js';
import { buildOnce, exitWithin, killAll } from './child.js';
import { keysUnder, nodeObject, oneLineError, plantAlert, uniquePrefix } from './fixtures.js';
import { cli } from './harness.js';
import { answers, logLines, opensAlert, startRun, stopsCleanly } from './running.js';

/*
 * Every command against an etcd that serves clients over TLS only and demands a client
 * certificate (`--client-cert-auth`), with certificates the test makes with openssl.
 */

let certs: Certificates;
let etcd: SecureEtcd;

beforeAll(async () => {
  certs = await makeCertificates();
  const starting = startTlsEtcd(certs);
  try {
    await buildOnce();
  } finally {
    etcd = await starting;
  }
}, 120_000);

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  await etcd?.stop();
  await certs?.remove();
});

function tlsFlags(): string[] {
  return ['--etcd-ca', certs.ca, '--etcd-cert', certs.clientCert, '--etcd-key', certs.clientKey];
}

/** A CLI on the TLS etcd and a fresh prefix, with `extra` flags on every command. */
function cliOn(prefix: string, extra: string[], env: NodeJS.ProcessEnv = {}) {
  return (args: string[], options: { stdin?: string } = {}) =>
    cli([...args, '--etcd-endpoints', etcd.endpoint, '--prefix', prefix, ...extra], {
      ...options,
      env,
    });
}

describe('commands over TLS', () => {
  it('apply, get, ack and delete with --etcd-ca, --etcd-cert and --etcd-key', async () => {
    const prefix = uniquePrefix('tls-flags');
    const run = cliOn(prefix, tlsFlags());

    const applied = await run(['apply', '-f', '-'], { stdin: JSON.stringify(nodeObject('n1')) });
    expect(applied, applied.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(await keysUnder(etcd.store, prefix)).toEqual([`${prefix}/Node/default/n1`]);

    const got = await run(['get', 'nodes', '-o', 'json']);
    expect(got).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(got.stdout).items[0].meta.name).toBe('n1');

    await plantAlert(etcd.store, prefix, { name: 'a1' });
    expect(await run(['ack', 'a1', '--user', 'alice'])).toMatchObject({
      code: 0,
      stdout: 'alert/default/a1 acknowledged\n',
    });
    expect(await run(['delete', 'node', 'n1'])).toMatchObject({
      code: 0,
      stdout: 'node/default/n1 deleted\n',
    });
    expect(await keysUnder(etcd.store, prefix)).toEqual([`${prefix}/Alert/default/a1`]);
  });

  it('takes the same files from ALERTMGR_ETCD_CA, ALERTMGR_ETCD_CERT and ALERTMGR_ETCD_KEY', async () => {
    const prefix = uniquePrefix('tls-env');
    await etcd.store.put(`${prefix}/Node/default/n1`, JSON.stringify(nodeObject('n1')));
    const result = await cli(['get', 'Node', 'n1', '-o', 'json'], {
      env: {
        ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
        ALERTMGR_PREFIX: prefix,
        ALERTMGR_ETCD_CA: certs.ca,
        ALERTMGR_ETCD_CERT: certs.clientCert,
        ALERTMGR_ETCD_KEY: certs.clientKey,
      },
    });
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(result.stdout).meta.name).toBe('n1');
  });

  it.each([
    ['no client certificate', () => ['--etcd-ca', certs.ca]],
    [
      'a CA that did not sign the server',
      () => [
        '--etcd-ca',
        certs.otherCa,
        '--etcd-cert',
        certs.clientCert,
        '--etcd-key',
        certs.clientKey,
      ],
    ],
    ['only the system CAs', () => []],
  ])('fails with exit 1 and one line when the handshake fails: %s', async (_, flags) => {
    const result = await cliOn(uniquePrefix('tls-refused'), flags())(['get', 'nodes']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(oneLineError(result.stderr)).toMatch(/^error: etcd is unavailable/);
  });

  it('refuses bad TLS settings with exit 2 and one line naming the setting', async () => {
    const notPem = join(certs.dir, 'not-pem.txt');
    await writeFile(notPem, 'hello\n');
    const https = etcd.endpoint;
    const http = https.replace('https:', 'http:');
    const { ca, clientCert: cert, clientKey: key } = certs;
    const cases: Array<[string, string[], string]> = [
      [http, ['--etcd-ca', ca], '--etcd-ca'],
      [`${https},${http}`, [], '--etcd-endpoints'],
      [https, ['--etcd-cert', cert], '--etcd-cert'],
      [https, ['--etcd-key', key], '--etcd-key'],
      [https, ['--etcd-ca', join(certs.dir, 'missing.crt')], '--etcd-ca'],
      [https, ['--etcd-ca', notPem], '--etcd-ca'],
      [https, ['--etcd-ca', ca, '--etcd-cert', notPem, '--etcd-key', key], '--etcd-cert'],
      [https, ['--etcd-ca', ca, '--etcd-cert', cert, '--etcd-key', notPem], '--etcd-key'],
      // The server's key with the client's certificate: a pair that does not belong together.
      [https, ['--etcd-ca', ca, '--etcd-cert', cert, '--etcd-key', certs.serverKey], '--etcd-key'],
    ];
    for (const [endpoints, flags, named] of cases) {
      const what = `${endpoints} ${flags.join(' ')}`;
      const result = await cli(['get', 'nodes', '--etcd-endpoints', endpoints, ...flags]);
      expect(result.code, what).toBe(2);
      expect(oneLineError(result.stderr), what).toContain(named);
      // A key's contents never end up in a message.
      expect(result.stderr).not.toContain('PRIVATE KEY');
    }
  });
});

describe('run over TLS', () => {
  it('becomes ready, opens an alert, and writes nothing to stderr', async () => {
    const run = await startRun('tls-run', ['--etcd-endpoints', etcd.endpoint, ...tlsFlags()]);
    await answers(run, '/readyz', 200);
    await opensAlert(run, cliOn(run.prefix, tlsFlags()), etcd.store);
    await stopsCleanly(run.proc);
    expect(logLines(run.proc).some((line) => line.level === 'error')).toBe(false);
    // Not even Node's warning about an IP address as TLS server name (see etcd-access.ts).
    expect(run.proc.stderr()).toBe('');
  });

  it('refuses to start with exit 2 when a TLS file is unreadable', async () => {
    const run = await startRun('tls-bad', [
      '--etcd-endpoints',
      etcd.endpoint,
      '--etcd-ca',
      join(certs.dir, 'missing.crt'),
    ]);
    const exit = await exitWithin(run.proc, 10_000);
    expect(exit.code).toBe(2);
    expect(oneLineError(run.proc.stderr())).toContain('--etcd-ca');
    expect(run.proc.stdout()).toBe('');
  });
});
