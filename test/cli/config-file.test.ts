import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';

import type { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { loadConfigFile } from '../../src/cli/config-file.js';
import { resolveDaemonConfig, Settings } from '../../src/cli/options.js';
import { buildProgram } from '../../src/cli/program.js';
import { DEFAULT_CONFIG } from '../../src/daemon/config.js';
import { startEtcd, type EtcdServer } from '../helpers/etcd.js';
import { makeCertificates, type Certificates } from '../helpers/etcd-secure.js';
import { freePort } from '../helpers/ports.js';
import { alertmgr, buildOnce, exitWithin, killAll } from './child.js';
import { oneLineError, tempDir, uniquePrefix } from './fixtures.js';
import { Capture } from './harness.js';
import { answers, logLines, startRun, stopsCleanly } from './running.js';

/*
 * `run --config FILE`: every setting of `run` under its flag name, below flags and their
 * ALERTMGR_* twins and above the defaults; a bad file is exit 2 naming the file and the key.
 */

let etcd: EtcdServer;
let dir: Awaited<ReturnType<typeof tempDir>>;
let certs: Certificates;

beforeAll(async () => {
  dir = await tempDir();
  certs = await makeCertificates();
  const starting = startEtcd();
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
  await dir?.remove();
});

let files = 0;

async function configFile(text: string): Promise<string> {
  files += 1;
  const path = join(dir.path, `config-${files}.yaml`);
  await writeFile(path, text);
  return path;
}

/** The daemon's settings from these flags (by commander's names), variables and file. */
async function resolved(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  path: string | undefined,
) {
  const settings = new Settings(flags, env);
  if (path === undefined) return resolveDaemonConfig(settings);
  return resolveDaemonConfig(settings.withFile(await loadConfigFile(fileSetting(path), keys())));
}

function fileSetting(path: string) {
  return { value: path, source: '--config' };
}

/** The long names of `run`'s flags and the global ones, as the program declares them. */
function keys(): Set<string> {
  const program = buildProgram(
    { stdout: new Capture(), stderr: new Capture(), stdin: process.stdin, env: {} },
    () => {},
  );
  const run = program.commands.find((command: Command) => command.name() === 'run')!;
  const names = [...program.options, ...run.options]
    .filter((option) => !option.hidden)
    .map((option) => option.long!.replace(/^--/, ''));
  return new Set(names.filter((name) => name !== 'config'));
}

describe('the settings file', () => {
  it('holds every setting of run under its flag name', async () => {
    await writeFile(join(dir.path, 'password'), 's3cret\n');
    const everything = {
      'etcd-endpoints': '[https://127.0.0.1:2379, https://127.0.0.2:2379]',
      prefix: '/fleet',
      'state-prefix': '/fleet-state',
      'clear-duration': '5s',
      'gc-retention': '2h',
      'gc-interval': '30s',
      'snapshot-interval': '0s',
      http: '0.0.0.0:9999',
      'log-level': 'debug',
      store: 'memory',
      'etcd-ca': certs.ca,
      'etcd-cert': certs.clientCert,
      'etcd-key': certs.clientKey,
      'etcd-user': 'alertmgr',
      'restart-budget': 3,
      'restart-window': '2m',
      // Relative to the file's own directory, not to where alertmgr runs.
      'etcd-password-file': 'password',
    };
    // A flag added to run without a line here fails this test: the table below is the doc.
    expect(new Set(Object.keys(everything))).toEqual(keys());

    const yaml = Object.entries(everything).map(([key, value]) => `${key}: ${value}`);
    const config = await resolved({}, {}, await configFile(yaml.join('\n')));
    expect(config).toMatchObject({
      etcdEndpoints: ['https://127.0.0.1:2379', 'https://127.0.0.2:2379'],
      prefix: '/fleet',
      statePrefix: '/fleet-state',
      clearDurationMs: 5_000,
      gcRetentionMs: 2 * 3600_000,
      gcIntervalMs: 30_000,
      snapshotIntervalMs: 0,
      restartBudget: 3,
      restartWindowMs: 120_000,
      http: { host: '0.0.0.0', port: 9999 },
      logLevel: 'debug',
      store: 'memory',
    });
    expect(config.etcdAccess?.tls?.ca).toEqual(await readFile(certs.ca));
    expect(config.etcdAccess?.tls?.cert).toEqual(await readFile(certs.clientCert));
    expect(config.etcdAccess?.tls?.key?.reveal()).toEqual(await readFile(certs.clientKey));
    expect(config.etcdAccess?.auth?.username).toBe('alertmgr');
    expect(config.etcdAccess?.auth?.password.reveal()).toBe('s3cret');
    // However the settings are printed, the password is not.
    expect(JSON.stringify(config)).not.toContain('s3cret');
    expect(inspect(config, { depth: 10 })).not.toContain('s3cret');
    // Nor the private key, as text or as the bytes of a Buffer.
    const keyBytes = JSON.stringify(await readFile(certs.clientKey));
    expect(JSON.stringify(config)).not.toContain(keyBytes.slice(1, -1));
    expect(String(config.etcdAccess?.auth?.password)).toBe('[redacted]');
  });

  it('sits below flags and variables, and above the defaults', async () => {
    const path = await configFile('clear-duration: 5s\nprefix: /from-file\n');
    const flag = { clearDuration: '9s' };
    const env = { ALERTMGR_CLEAR_DURATION: '7s', ALERTMGR_PREFIX: '/from-env' };

    expect(await resolved(flag, env, path)).toMatchObject({
      clearDurationMs: 9_000,
      prefix: '/from-env',
    });
    expect(await resolved({}, env, path)).toMatchObject({
      clearDurationMs: 7_000,
      prefix: '/from-env',
    });
    expect(await resolved({}, {}, path)).toMatchObject({
      clearDurationMs: 5_000,
      prefix: '/from-file',
    });
    expect(await resolved({}, {}, await configFile(''))).toEqual(await resolved({}, {}, undefined));
    expect(await resolved({}, {}, undefined)).toMatchObject({
      clearDurationMs: DEFAULT_CONFIG.clearDurationMs,
      prefix: DEFAULT_CONFIG.prefix,
    });
  });

  it('takes a list of endpoints as a YAML list or as the flag text', async () => {
    const asList = await configFile(
      'etcd-endpoints:\n  - http://127.0.0.1:1\n  - http://127.0.0.1:2\n',
    );
    const asText = await configFile('etcd-endpoints: http://127.0.0.1:1,http://127.0.0.1:2\n');
    const expected = ['http://127.0.0.1:1', 'http://127.0.0.1:2'];
    expect((await resolved({}, {}, asList)).etcdEndpoints).toEqual(expected);
    expect((await resolved({}, {}, asText)).etcdEndpoints).toEqual(expected);
  });
});

describe('run --config', () => {
  it('runs with the settings of the file, and a variable or flag overrides one', async () => {
    const filePort = await freePort();
    const prefix = uniquePrefix('config-run');
    const path = await configFile(
      [
        `etcd-endpoints: [${etcd.endpoint}]`,
        `prefix: ${prefix}`,
        `state-prefix: /state${prefix}`,
        `http: 127.0.0.1:${filePort}`,
        'log-level: warn',
      ].join('\n'),
    );

    const fromFile = alertmgr(['run', '--config', path]);
    await answers({ proc: fromFile, port: filePort }, '/readyz', 200);
    await stopsCleanly(fromFile);
    // At warn, the file's level, a normal start and stop writes no info line.
    expect(logLines(fromFile).filter((line) => line.level === 'info')).toEqual([]);

    // ALERTMGR_CONFIG names the file; the variable's port and the flag's level win over it.
    const envPort = await freePort();
    const overridden = alertmgr(['run', '--log-level', 'info'], {
      ALERTMGR_CONFIG: path,
      ALERTMGR_HTTP: `127.0.0.1:${envPort}`,
    });
    await answers({ proc: overridden, port: envPort }, '/readyz', 200);
    await stopsCleanly(overridden);
    expect(logLines(overridden).some((line) => line.level === 'info')).toBe(true);
  });

  it.each([
    ['clear-duration: 5x\n', 'clear-duration'],
    ['clear-duraton: 5s\n', 'clear-duraton'],
    ['log-level: [info]\n', 'log-level'],
    ['http:\n  host: 127.0.0.1\n', 'http'],
    ['etcd-endpoints: [http://127.0.0.1:2379, {a: 1}]\n', 'etcd-endpoints[1]'],
    ['etcd-endpoints: [127.0.0.1:2379]\n', 'etcd-endpoints'],
    ['store:\n', 'store'],
    ['etcd-password: hunter2\n', 'etcd-password'],
    ['config: other.yaml\n', 'config'],
    ['prefix: /a\nprefix: /b\n', 'line 2'],
    ['prefix: [/a\n', 'line'],
    ['- prefix: /a\n', 'expected a mapping'],
    ['prefix: /a\n---\nprefix: /b\n', 'line'],
  ])('%j: exit 2 with one line naming the file and %s', async (text, named) => {
    const path = await configFile(text);
    // No --etcd-endpoints: a flag would win over the file's value, which then goes unread.
    const run = await startRun('config-bad', ['--config', path]);
    const exit = await exitWithin(run.proc, 10_000);
    expect(exit.code, run.proc.stdout()).toBe(2);
    const line = oneLineError(run.proc.stderr());
    expect(line).toContain(path);
    expect(line).toContain(named);
    expect(line).not.toContain('hunter2');
    expect(run.proc.stdout()).toBe('');
  });

  it('a file that cannot be read is exit 2 naming it', async () => {
    const missing = join(dir.path, 'missing.yaml');
    for (const [args, env, named] of [
      [['--config', missing], {}, '--config'],
      [[], { ALERTMGR_CONFIG: missing }, 'ALERTMGR_CONFIG'],
    ] as const) {
      const run = await startRun('config-missing', [...args], { ...env });
      const exit = await exitWithin(run.proc, 10_000);
      expect(exit.code).toBe(2);
      const line = oneLineError(run.proc.stderr());
      expect(line).toContain(named);
      expect(line).toContain(missing);
    }
  });
});
