import { userInfo } from 'node:os';

import { Command, Option } from 'commander';

import { systemClock } from '../clock.js';
import { DEFAULT_CONFIG } from '../daemon/config.js';
import { ValidationError } from '../errors.js';
import { ALERT_KIND } from '../model/index.js';
import { changeAlert, type AlertAction } from './alerts.js';
import { applyManifests } from './apply.js';
import { deleteObject } from './delete.js';
import { EXIT_OK } from './errors.js';
import { getObjects } from './get.js';
import { writeLine, type Io } from './io.js';
import { checkSegment, displayName, findStoredKind, resolveKind } from './kinds.js';
import { readManifests } from './manifests.js';
import { withStore } from './objects.js';
import { examples, flag, readDuration, resolveConnection, Settings } from './options.js';
import { OUTPUT_FORMATS } from './render.js';
import { addRun } from './run-command.js';
import { stopSignal } from './run.js';

/** An action returns its exit code; commander's own errors are mapped by `main`. */
export type Action = (
  settings: Settings,
  args: Array<string | undefined>,
) => Promise<number | void>;

/**
 * The command tree. Each command is declared with its flags and examples, and its action
 * turns flags into typed settings and calls the module that does the work.
 */
export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command('alertmgr')
    .description('Alert manager for objects stored in etcd: policies in, alerts out.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({ showGlobalOptions: true })
    .addOption(
      flag(
        '--etcd-endpoints <urls>',
        'comma-separated etcd client URLs',
        DEFAULT_CONFIG.etcdEndpoints.join(','),
      ),
    )
    .addOption(flag('--prefix <path>', 'etcd key prefix of all objects', DEFAULT_CONFIG.prefix));
  addEtcdAccessFlags(program);

  // Commander calls an action with the positional arguments, the options and the command.
  const act: Act =
    (action) =>
    async (...args) => {
      const command = args.at(-1) as Command;
      const settings = new Settings(command.optsWithGlobals(), io.env);
      const code = await action(settings, args.slice(0, -2) as Array<string | undefined>);
      setExitCode(code ?? EXIT_OK);
    };

  addRun(program, io, act);
  addDemo(program, io, act);
  addApply(program, io, act);
  addGet(program, io, act);
  addDelete(program, io, act);
  addAlertCommand(program, io, act, 'ack');
  addAlertCommand(program, io, act, 'resolve');
  return program;
}

export type Act = (action: Action) => (...args: unknown[]) => Promise<void>;

/**
 * How every command reaches a secured etcd. The password has no flag (see etcd-access.ts);
 * `--etcd-password` is declared, hidden, only to refuse it without echoing its value.
 */
function addEtcdAccessFlags(program: Command): void {
  program
    .addOption(flag('--etcd-ca <file>', "PEM CA bundle that signed etcd's certificate"))
    .addOption(flag('--etcd-cert <file>', 'PEM client certificate, with --etcd-key'))
    .addOption(flag('--etcd-key <file>', 'PEM key of the client certificate'))
    .addOption(
      flag('--etcd-user <name>', 'etcd user; its password from ALERTMGR_ETCD_PASSWORD or a file'),
    )
    .addOption(flag('--etcd-password-file <file>', "file holding the etcd user's password"))
    .addOption(new Option('--etcd-password [password]').hideHelp());
}

const tenantFlag = () => flag('--tenant <tenant>', 'tenant of the object', 'default');

function readTenant(settings: Settings): string {
  return checkSegment(settings.text('--tenant')?.value ?? 'default', '--tenant');
}

function addDemo(program: Command, io: Io, act: Act): void {
  program
    .command('demo')
    .description('run alertmgr on an in-memory store with sample objects; no etcd needed')
    .addOption(flag('--for <duration>', 'stop after this long instead of at Ctrl-C'))
    .addOption(flag('--seed <number>', 'seed of the sample fleet and its faults', 'random'))
    .addHelpText('after', examples('alertmgr demo', 'alertmgr demo --for 30s --seed 7'))
    .action(
      act(async (settings) => {
        const durationMs = settings.text('--for')
          ? readDuration(settings.text('--for'), 0, 1)
          : undefined;
        const seed = readSeed(settings);
        const { runDemo } = await import('../demo/index.js');
        const signals = stopSignal();
        try {
          return await runDemo({
            out: io.stdout,
            err: io.stderr,
            stop: signals.received,
            ...(durationMs === undefined ? {} : { durationMs }),
            ...(seed === undefined ? {} : { seed }),
          });
        } finally {
          signals.dispose();
        }
      }),
    );
}

function readSeed(settings: Settings): number | undefined {
  const setting = settings.text('--seed');
  if (setting === undefined) return undefined;
  const seed = Number(setting.value);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new ValidationError(
      setting.source,
      `expected a whole number, got ${JSON.stringify(setting.value)}`,
    );
  }
  return seed;
}

function addApply(program: Command, io: Io, act: Act): void {
  program
    .command('apply')
    .description('create or update objects from YAML or JSON; every document is checked first')
    .addOption(
      flag(
        '-f, --filename <path>',
        'a file, a directory of .yaml/.yml/.json files, or - for standard input; repeatable',
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addHelpText(
      'after',
      examples(
        'alertmgr apply -f examples/',
        'alertmgr apply -f policies.yaml -f destinations.json',
        'cat examples/*.yaml | alertmgr apply -f -',
      ),
    )
    .action(
      act(async (settings) => {
        const connection = resolveConnection(settings);
        const paths = settings.list('--filename')?.value ?? [];
        if (paths.length === 0) {
          throw new ValidationError('-f', 'required: a file, a directory or - for standard input');
        }
        const manifests = await readManifests(paths, io, connection.prefix);
        await withStore(connection, (store) =>
          applyManifests(store, connection.prefix, manifests, systemClock, io),
        );
      }),
    );
}

function addGet(program: Command, io: Io, act: Act): void {
  program
    .command('get')
    .description('show objects of a kind: alerts, policies, destinations or a managed kind')
    .argument('<kind>', 'alert(s), policy/policies, destination(s), or a kind such as node(s)')
    .argument('[name]', 'one object; all of the kind when left out')
    .addOption(tenantFlag())
    .addOption(flag('-A, --all-tenants', 'list objects of every tenant'))
    .addOption(flag('-o, --output <format>', OUTPUT_FORMATS.join(', '), 'table'))
    .addHelpText(
      'after',
      examples(
        'alertmgr get alerts',
        'alertmgr get policy node-down -o yaml',
        'alertmgr get DistributedServiceCard -A',
        'alertmgr get nodes --tenant lab',
      ),
    )
    .action(
      act(async (settings, [kind = '', name]) => {
        const connection = resolveConnection(settings);
        const allTenants = settings.bool('--all-tenants');
        const request = {
          kind: resolveKind(kind),
          tenant: readTenant(settings),
          allTenants,
          output: settings.choice('--output', OUTPUT_FORMATS, 'table'),
          ...(name === undefined ? {} : { name: checkSegment(name, 'NAME') }),
        };
        if (allTenants && name !== undefined) {
          throw new ValidationError('--all-tenants', 'cannot be used with a NAME');
        }
        await withStore(connection, async (store) => {
          const stored = await findStoredKind(store, connection.prefix, request.kind);
          const found = { ...request, kind: stored };
          await getObjects(store, connection.prefix, found, systemClock, io);
        });
      }),
    );
}

function addDelete(program: Command, io: Io, act: Act): void {
  program
    .command('delete')
    .description('delete one object')
    .argument('<kind>', 'alert, policy, destination, or a kind such as Node')
    .argument('<name>', 'name of the object')
    .addOption(tenantFlag())
    .addHelpText(
      'after',
      examples('alertmgr delete policy node-down', 'alertmgr delete node n1 --tenant lab'),
    )
    .action(
      act(async (settings, [kind = '', name = '']) => {
        const connection = resolveConnection(settings);
        const given = {
          kind: resolveKind(kind),
          tenant: readTenant(settings),
          name: checkSegment(name, 'NAME'),
        };
        const ref = await withStore(connection, async (store) => {
          const stored = {
            ...given,
            kind: await findStoredKind(store, connection.prefix, given.kind),
          };
          await deleteObject(store, connection.prefix, stored);
          return stored;
        });
        writeLine(io.stdout, `${displayName(ref)} deleted`);
      }),
    );
}

const ALERT_COMMANDS = {
  ack: { description: 'acknowledge an open alert', done: 'acknowledged' },
  resolve: { description: 'resolve an open or acknowledged alert', done: 'resolved' },
} as const;

function addAlertCommand(program: Command, io: Io, act: Act, action: AlertAction): void {
  const { description, done } = ALERT_COMMANDS[action];
  program
    .command(action)
    .description(description)
    .argument('<alert>', 'name of the alert, as "alertmgr get alerts" shows it')
    .addOption(tenantFlag())
    .addOption(flag('--user <user>', 'who does it, for the audit record', 'the login name'))
    .addHelpText(
      'after',
      examples(
        `alertmgr ${action} node-down-n1-3f2a9c01bd`,
        `alertmgr ${action} card-down-dsc-7-0c1d2e3f4a --tenant lab --user alice`,
      ),
    )
    .action(
      act(async (settings, [name = '']) => {
        const connection = resolveConnection(settings);
        const change = {
          action,
          tenant: readTenant(settings),
          name: checkSegment(name, 'ALERT'),
          user: readUser(settings, io.env),
        };
        const outcome = await withStore(connection, (store) =>
          changeAlert(store, connection.prefix, change, systemClock),
        );
        const ref = { kind: ALERT_KIND, tenant: change.tenant, name: change.name };
        const verb = outcome === 'already' ? `already ${done}` : done;
        writeLine(io.stdout, `${displayName(ref)} ${verb}`);
      }),
    );
}

function readUser(settings: Settings, env: NodeJS.ProcessEnv): string {
  const setting = settings.text('--user');
  const user = setting?.value ?? loginName(env);
  const source = setting?.source ?? '--user';
  if (user.trim() === '') throw new ValidationError(source, 'must not be empty');
  // The name goes into the alert's audit record and into log lines: one line, printable.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(user)) {
    throw new ValidationError(source, 'must not hold control characters');
  }
  return user;
}

/** The login name; a container user without a passwd entry has none, so fall back. */
function loginName(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? 'unknown';
  }
}
