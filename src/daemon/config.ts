/**
 * The daemon's settings in their compiled form: validated, defaults applied, durations in
 * milliseconds. The CLI turns flags, `ALERTMGR_*` variables and defaults into this.
 */
export interface DaemonConfig {
  readonly store: 'etcd' | 'memory';
  readonly etcdEndpoints: readonly string[];
  /** Where managed objects, policies, destinations and alerts live. */
  readonly prefix: string;
  /** Where alertmgr keeps its own bookkeeping; never inside `prefix`. */
  readonly statePrefix: string;
  /** Used for policies that give no `clearDuration`. */
  readonly clearDurationMs: number;
  readonly gcRetentionMs: number;
  readonly gcIntervalMs: number;
  /** How often stage snapshots are saved under `statePrefix`; 0 turns saving off. */
  readonly snapshotIntervalMs: number;
  /**
   * Work handed downstream and not yet done (messages, dirty objects, alert writes) at
   * which the watcher stops reading etcd, and the level at which it reads again. These bound
   * memory under a storm of updates.
   */
  readonly backlogHighWater: number;
  readonly backlogLowWater: number;
  readonly http: { readonly host: string; readonly port: number };
  readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

export const DEFAULT_CONFIG: DaemonConfig = {
  store: 'etcd',
  etcdEndpoints: ['http://127.0.0.1:2379'],
  prefix: '/objects',
  statePrefix: '/alertmgr',
  clearDurationMs: 2_000,
  gcRetentionMs: 24 * 60 * 60 * 1000,
  gcIntervalMs: 60_000,
  snapshotIntervalMs: 30_000,
  backlogHighWater: 10_000,
  backlogLowWater: 2_000,
  http: { host: '127.0.0.1', port: 9464 },
  logLevel: 'info',
};
