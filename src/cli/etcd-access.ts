import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';

import { Secret, type EtcdAccess } from '../daemon/config.js';
import { ValidationError } from '../errors.js';
import type { EtcdStoreOptions } from '../store/index.js';
import { describeFsError } from './manifests.js';
import type { Setting, Settings } from './options.js';

/** The password's only direct source; it has no flag. */
const PASSWORD_ENV = 'ALERTMGR_ETCD_PASSWORD';

/**
 * TLS and authentication towards etcd, for `run` and every command that talks to etcd:
 *
 * - `--etcd-ca`, `--etcd-cert`, `--etcd-key`: PEM files (the client pair goes together);
 *   they need `https://` endpoints, and `https://` endpoints without them use the system CAs;
 * - `--etcd-user` with a password from `ALERTMGR_ETCD_PASSWORD` or from the file named by
 *   `--etcd-password-file`. There is no flag for the password itself: a command line is
 *   visible to every user of the machine (`ps`) and stays in shell history.
 *
 * Files are read here, once, so a missing or malformed one is a usage error before any
 * connection is tried. Their contents, and the password, never appear in a message.
 */
export function resolveEtcdAccess(settings: Settings, endpoints: readonly string[]): EtcdAccess {
  if (settings.given('--etcd-password')) {
    // The value is not repeated: it is the secret.
    throw new ValidationError(
      '--etcd-password',
      'not accepted, a password on the command line is visible to other users; ' +
        'use ALERTMGR_ETCD_PASSWORD or --etcd-password-file',
    );
  }
  const tls = readTls(settings, endpoints);
  const auth = readAuth(settings);
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}

function readTls(settings: Settings, endpoints: readonly string[]): EtcdAccess['tls'] {
  const ca = settings.text('--etcd-ca');
  const cert = settings.text('--etcd-cert');
  const key = settings.text('--etcd-key');
  const secure = endpoints.filter((endpoint) => endpoint.startsWith('https:'));
  if (secure.length > 0 && secure.length < endpoints.length) {
    const source = settings.text('--etcd-endpoints')?.source ?? '--etcd-endpoints';
    throw new ValidationError(source, 'mixes http:// and https:// endpoints; use one scheme');
  }
  const first = ca ?? cert ?? key;
  if (first === undefined) return undefined;
  if (secure.length === 0) {
    throw new ValidationError(first.source, 'TLS needs https:// endpoints in --etcd-endpoints');
  }
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? '--etcd-cert' : '--etcd-key';
    throw new ValidationError((cert ?? key)!.source, `needs ${missing} as well`);
  }

  const caPem = ca && readPem(ca, 'certificate');
  const certPem = cert && readPem(cert, 'certificate');
  const keyPem = key && readPem(key, 'private key');
  if (cert && key && certPem && keyPem) checkPair(cert, certPem, key, keyPem);
  return {
    ...(caPem ? { ca: caPem } : {}),
    ...(certPem ? { cert: certPem } : {}),
    ...(keyPem ? { key: new Secret(keyPem) } : {}),
  };
}

function readAuth(settings: Settings): EtcdAccess['auth'] {
  const user = settings.text('--etcd-user');
  const password = readPassword(settings);
  if (user === undefined && password === undefined) return undefined;
  if (user === undefined) {
    throw new ValidationError(password!.source, 'a password needs --etcd-user');
  }
  if (user.value.trim() === '') throw new ValidationError(user.source, 'must not be empty');
  if (password === undefined) {
    throw new ValidationError(
      user.source,
      'needs a password: set ALERTMGR_ETCD_PASSWORD or --etcd-password-file',
    );
  }
  return { username: user.value, password: password.value };
}

/**
 * The password, from the first of: `--etcd-password-file`; the variable
 * `ALERTMGR_ETCD_PASSWORD` or the file named by `ALERTMGR_ETCD_PASSWORD_FILE` (both at once is
 * ambiguous, and refused); the settings file's `etcd-password-file`.
 */
function readPassword(settings: Settings): { value: Secret; source: string } | undefined {
  const file = settings.text('--etcd-password-file');
  const inline = settings.envOnly(PASSWORD_ENV);
  if (inline && file?.source !== '--etcd-password-file') {
    if (file?.source === `${PASSWORD_ENV}_FILE`) {
      throw new ValidationError(inline.source, `set it or ${file.source}, not both`);
    }
    return { value: new Secret(inline.value), source: inline.source };
  }
  if (file === undefined) return undefined;

  // A trailing line break is what an editor or `echo` leaves; it is not part of the password.
  const text = readFile(file)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new ValidationError(file.source, `${JSON.stringify(file.value)} is empty`);
  return { value: new Secret(text), source: file.source };
}

function readFile(setting: Setting): Buffer {
  const path = resolve(setting.relativeTo ?? '.', setting.value);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ValidationError(setting.source, `${JSON.stringify(path)}: ${describeFsError(err)}`);
  }
}

/** The file's bytes, once they parse as what the flag expects. */
function readPem(setting: Setting, what: 'certificate' | 'private key'): Buffer {
  const pem = readFile(setting);
  try {
    if (what === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    throw new ValidationError(
      setting.source,
      `${JSON.stringify(setting.value)} is not a PEM ${what}`,
    );
  }
  return pem;
}

function checkPair(cert: Setting, certPem: Buffer, key: Setting, keyPem: Buffer): void {
  const privateKey: KeyObject = createPrivateKey(keyPem);
  if (!new X509Certificate(certPem).checkPrivateKey(privateKey)) {
    throw new ValidationError(key.source, `is not the key of the certificate in ${cert.source}`);
  }
}

/** What `EtcdStore` needs of the access settings; the secrets are revealed only here. */
export function etcdStoreOptions(
  endpoints: readonly string[],
  access: EtcdAccess = {},
): Pick<EtcdStoreOptions, 'endpoints' | 'auth' | 'tls'> {
  const { tls, auth } = access;
  if (endpoints.some((endpoint) => endpoint.startsWith('https:'))) dropIpServerNameWarning();
  return {
    endpoints,
    ...(auth ? { auth: { username: auth.username, password: auth.password.reveal() } } : {}),
    ...(tls ? { tls: tlsOptions(tls) } : {}),
  };
}

function tlsOptions(tls: NonNullable<EtcdAccess['tls']>): EtcdStoreOptions['tls'] {
  return {
    // A client certificate without a CA file still trusts the system's CAs, as plain https://
    // does: the client would otherwise trust nothing.
    ca: tls.ca ?? (tls.cert ? Buffer.from(rootCertificates.join('\n')) : undefined),
    cert: tls.cert,
    key: tls.key?.reveal(),
  };
}

let warningDropped = false;

/**
 * The gRPC client passes an IP endpoint (`https://10.0.0.5:2379`) to Node's TLS as the server
 * name, and Node answers with a deprecation warning (DEP0123) on stderr. The certificate is
 * still checked against the IP; the warning is about the client library, tells the operator
 * nothing, and would break the one-line stderr of a failing command. Only that warning is
 * dropped; every other one goes through.
 */
function dropIpServerNameWarning(): void {
  if (warningDropped) return;
  warningDropped = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  const patched = (...args: unknown[]) => {
    const [, type, code] = args;
    const options = typeof type === 'object' && type !== null ? (type as { code?: unknown }) : {};
    if (code === 'DEP0123' || options.code === 'DEP0123') return;
    emit(...args);
  };
  process.emitWarning = patched;
}
