import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { startAuthEtcd, type AuthEtcd } from '../helpers/etcd-secure.js';
import { buildOnce, killAll } from './child.js';
import { keysUnder, nodeObject, oneLineError, tempDir, uniquePrefix } from './fixtures.js';
import { cli, type CliResult } from './harness.js';
import { answers, logLines, opensAlert, startRun, stopsCleanly } from './running.js';

/*
 * Every command against an etcd with authentication enabled: a user whose role may write
 * only the test's prefixes, its password from ALERTMGR_ETCD_PASSWORD or a file, and never
 * from a flag, in a message or in a log line.
 */

let etcd: AuthEtcd;
let dir: Awaited<ReturnType<typeof tempDir>>;

/** Distinctive, so a search of any output for it cannot miss or match by chance. */
const PASSWORD = `pw-${randomBytes(9).toString('base64url')}`;
const USER = 'alertmgr';

beforeAll(async () => {
  dir = await tempDir();
  const starting = startAuthEtcd(`root-${randomBytes(9).toString('hex')}`);
  try {
    await buildOnce();
  } finally {
    etcd = await starting;
  }
  // The user may write only under the test's prefixes and their state prefixes.
  await etcd.addUser(USER, PASSWORD, ['/t-', '/state/t-']);
}, 120_000);

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  await etcd?.stop();
  await dir?.remove();
});

/** A CLI on the etcd and a fresh prefix, logged in as `extra` and `env` say. */
function cliOn(prefix: string, extra: string[], env: NodeJS.ProcessEnv = {}) {
  return (args: string[], options: { stdin?: string } = {}) =>
    cli([...args, '--etcd-endpoints', etcd.endpoint, '--prefix', prefix, ...extra], {
      ...options,
      env,
    });
}

function expectNoPassword(...outputs: string[]): void {
  for (const output of outputs) expect(output).not.toContain(PASSWORD);
}

async function passwordFile(name: string, content = `${PASSWORD}\n`): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
}

describe('commands with etcd authentication', () => {
  it('log in with --etcd-user and ALERTMGR_ETCD_PASSWORD', async () => {
    const prefix = uniquePrefix('auth-env');
    const run = cliOn(prefix, ['--etcd-user', USER], { ALERTMGR_ETCD_PASSWORD: PASSWORD });

    const applied = await run(['apply', '-f', '-'], { stdin: JSON.stringify(nodeObject('n1')) });
    expect(applied, applied.stderr).toMatchObject({ code: 0, stderr: '' });
    const got = await run(['get', 'node', 'n1', '-o', 'json']);
    expect(got).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(got.stdout).meta.name).toBe('n1');
    expect(await run(['delete', 'nodes', 'n1'])).toMatchObject({ code: 0, stderr: '' });
    expect(await keysUnder(etcd.store, prefix)).toEqual([]);
    expectNoPassword(applied.stdout, got.stdout);
  });

  it('read the password from --etcd-password-file or ALERTMGR_ETCD_PASSWORD_FILE', async () => {
    const prefix = uniquePrefix('auth-file');
    await etcd.store.put(`${prefix}/Node/default/n1`, JSON.stringify(nodeObject('n1')));
    const file = await passwordFile('password');

    const fromFlag = await cliOn(prefix, ['--etcd-user', USER, '--etcd-password-file', file])([
      'get',
      'Node',
    ]);
    expect(fromFlag, fromFlag.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(fromFlag.stdout).toContain('n1');

    const fromEnv = await cli(['get', 'Node'], {
      env: {
        ALERTMGR_ETCD_ENDPOINTS: etcd.endpoint,
        ALERTMGR_PREFIX: prefix,
        ALERTMGR_ETCD_USER: USER,
        ALERTMGR_ETCD_PASSWORD_FILE: file,
      },
    });
    expect(fromEnv, fromEnv.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(fromEnv.stdout).toContain('n1');

    // The flag wins over the variable holding a wrong password.
    const flagWins = await cliOn(prefix, ['--etcd-user', USER, '--etcd-password-file', file], {
      ALERTMGR_ETCD_PASSWORD: 'wrong',
    })(['get', 'Node']);
    expect(flagWins, flagWins.stderr).toMatchObject({ code: 0 });
  });

  it.each([
    ['a wrong password', { ALERTMGR_ETCD_PASSWORD: `${PASSWORD}x` }, ['--etcd-user', USER]],
    ['no user at all', {}, []],
    ['a prefix the user may not read', { ALERTMGR_ETCD_PASSWORD: PASSWORD }, ['--etcd-user', USER]],
  ])('fails with exit 1 and one line without the password: %s', async (what, env, flags) => {
    const prefix = what.startsWith('a prefix') ? '/forbidden' : uniquePrefix('auth-refused');
    const result: CliResult = await cliOn(prefix, flags, env)(['get', 'Node', 'n1']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    oneLineError(result.stderr);
    expectNoPassword(result.stderr);
  });

  it('refuses the password as a flag (exit 2) without repeating it', async () => {
    for (const args of [
      ['--etcd-password', PASSWORD],
      [`--etcd-password=${PASSWORD}`],
      ['--etcd-password'],
    ]) {
      const result = await cliOn(uniquePrefix('auth-flag'), ['--etcd-user', USER, ...args])([
        'get',
        'Node',
      ]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(oneLineError(result.stderr)).toContain('--etcd-password');
      expect(oneLineError(result.stderr)).toContain('ALERTMGR_ETCD_PASSWORD');
      expectNoPassword(result.stderr, result.stdout);
    }
  });

  it('refuses incomplete or ambiguous credentials with exit 2 naming the setting', async () => {
    const file = await passwordFile('password-usage');
    const empty = await passwordFile('empty', '\n');
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['--etcd-user', USER], {}, '--etcd-user'],
      [[], { ALERTMGR_ETCD_PASSWORD: PASSWORD }, 'ALERTMGR_ETCD_PASSWORD'],
      [['--etcd-password-file', file], {}, '--etcd-password-file'],
      [['--etcd-user', USER, '--etcd-password-file', join(dir.path, 'nope')], {}, 'no such file'],
      [['--etcd-user', USER, '--etcd-password-file', empty], {}, 'is empty'],
      [
        ['--etcd-user', USER],
        { ALERTMGR_ETCD_PASSWORD: PASSWORD, ALERTMGR_ETCD_PASSWORD_FILE: file },
        'ALERTMGR_ETCD_PASSWORD_FILE',
      ],
      [['--etcd-user', ''], { ALERTMGR_ETCD_PASSWORD: PASSWORD }, '--etcd-user'],
    ];
    for (const [flags, env, named] of cases) {
      const what = `${flags.join(' ')} ${Object.keys(env).join(' ')}`;
      const result = await cliOn(uniquePrefix('auth-usage'), flags, env)(['get', 'Node']);
      expect(result.code, what).toBe(2);
      expect(oneLineError(result.stderr), what).toContain(named);
      expectNoPassword(result.stderr);
    }
  });
});

describe('run with etcd authentication', () => {
  it('logs in, opens an alert, and never writes the password', async () => {
    const env = { ALERTMGR_ETCD_PASSWORD: PASSWORD };
    const run = await startRun(
      'auth-run',
      ['--etcd-endpoints', etcd.endpoint, '--etcd-user', USER, '--log-level', 'debug'],
      env,
    );
    await answers(run, '/readyz', 200);
    await opensAlert(run, cliOn(run.prefix, ['--etcd-user', USER], env), etcd.store);
    await stopsCleanly(run.proc);
    expect(logLines(run.proc).length).toBeGreaterThan(0);
    expectNoPassword(run.proc.stdout(), run.proc.stderr());
  });

  it('takes the user and a password file relative to it from --config', async () => {
    await passwordFile('etcd-password');
    const config = join(dir.path, 'config.yaml');
    const settings = [
      `etcd-endpoints: [${etcd.endpoint}]`,
      `etcd-user: ${USER}`,
      'etcd-password-file: etcd-password',
    ];
    await writeFile(config, `${settings.join('\n')}\n`);

    const run = await startRun('auth-config', ['--config', config]);
    await answers(run, '/readyz', 200);
    await opensAlert(
      run,
      cliOn(run.prefix, ['--etcd-user', USER], { ALERTMGR_ETCD_PASSWORD: PASSWORD }),
      etcd.store,
    );
    await stopsCleanly(run.proc);
    expectNoPassword(run.proc.stdout(), run.proc.stderr());
  });
});
