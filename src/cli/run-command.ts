import type { Command } from 'commander';

import { DEFAULT_CONFIG } from '../daemon/config.js';
import { formatDuration } from '../model/index.js';
import { loadConfigFile } from './config-file.js';
import type { Io } from './io.js';
import { examples, flag, LOG_LEVELS, resolveDaemonConfig, type Settings } from './options.js';
import type { Act } from './program.js';
import { runDaemon } from './run.js';

/**
 * `alertmgr run`: its flags, and its settings file. Every flag of `run` and every global one
 * (etcd endpoints, prefix, TLS and user) may be given in the file under its long name; the
 * file sits below flags and their `ALERTMGR_*` twins, above the defaults.
 */
export function addRun(program: Command, io: Io, act: Act): void {
  const d = DEFAULT_CONFIG;
  const run = program
    .command('run')
    .description('run the daemon: watch etcd, open and resolve alerts, send notifications')
    .addOption(
      flag(
        '--config <file>',
        'YAML settings file keyed by flag name (clear-duration: 5s); flags and variables win',
      ),
    )
    .addOption(
      flag('--state-prefix <path>', "etcd key prefix of alertmgr's own state", d.statePrefix),
    )
    .addOption(
      flag(
        '--clear-duration <duration>',
        'how long a condition must be false before its alert resolves, for policies without one',
        formatDuration(d.clearDurationMs),
      ),
    )
    .addOption(
      flag(
        '--gc-retention <duration>',
        'how long resolved alerts are kept',
        formatDuration(d.gcRetentionMs),
      ),
    )
    .addOption(
      flag(
        '--gc-interval <duration>',
        'how often resolved alerts are collected',
        formatDuration(d.gcIntervalMs),
      ),
    )
    .addOption(
      flag(
        '--snapshot-interval <duration>',
        'how often stage snapshots are saved under the state prefix; 0s turns them off',
        formatDuration(d.snapshotIntervalMs),
      ),
    )
    .addOption(
      flag(
        '--restart-budget <count>',
        'stage restarts allowed within --restart-window before the process exits 1',
        String(d.restartBudget),
      ),
    )
    .addOption(
      flag(
        '--restart-window <duration>',
        'the window --restart-budget counts restarts in',
        formatDuration(d.restartWindowMs),
      ),
    )
    .addOption(
      flag(
        '--http <host:port>',
        'address of /metrics, /healthz and /readyz',
        `${d.http.host}:${d.http.port}`,
      ),
    )
    .addOption(flag('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`, d.logLevel))
    .addOption(flag('--store <store>', 'etcd, or memory for an empty in-process store', d.store))
    .addHelpText(
      'after',
      examples(
        'alertmgr run --etcd-endpoints http://10.0.0.5:2379,http://10.0.0.6:2379',
        'ALERTMGR_LOG_LEVEL=debug alertmgr run --http 0.0.0.0:9464 --clear-duration 30s',
        'alertmgr run --config /etc/alertmgr/config.yaml',
      ),
    );
  run.action(
    act(async (settings) => {
      const config = resolveDaemonConfig(await withConfigFile(settings, fileKeys(program, run)));
      // Loaded here, not at the top: the other commands need none of the daemon.
      const { startDaemon } = await import('../daemon/index.js');
      return runDaemon(config, io, { startDaemon });
    }),
  );
}

/** The settings file's keys: the long names of `run`'s flags and of the global ones. */
function fileKeys(program: Command, run: Command): Set<string> {
  const names = [...program.options, ...run.options]
    .filter((option) => !option.hidden)
    .map((option) => (option.long ?? '').replace(/^--/, ''));
  return new Set(names.filter((name) => name !== '' && name !== 'config' && name !== 'help'));
}

/** `settings` over the file named by `--config` (or its twin), when one is named. */
async function withConfigFile(settings: Settings, keys: ReadonlySet<string>): Promise<Settings> {
  const setting = settings.text('--config');
  return setting ? settings.withFile(await loadConfigFile(setting, keys)) : settings;
}
