/**
 * The daemon's settings in their compiled form: validated, defaults applied, durations in
 * milliseconds. The CLI turns flags, `ALERTMGR_*` variables and defaults into this.
 */
export interface DaemonConfig {
  readonly store: 'etcd' | 'memory';
  readonly etcdEndpoints: readonly string[];
  /** TLS material and credentials for etcd; absent or empty: plain, unauthenticated. */
  readonly etcdAccess?: EtcdAccess;
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
   * Stage restarts allowed within `restartWindowMs`; one more and the process exits 1, for
   * systemd or Kubernetes to start it afresh.
   */
  readonly restartBudget: number;
  readonly restartWindowMs: number;
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
  restartBudget: 5,
  restartWindowMs: 60_000,
  backlogHighWater: 10_000,
  backlogLowWater: 2_000,
  http: { host: '127.0.0.1', port: 9464 },
  logLevel: 'info',
};

/**
 * How alertmgr proves itself to etcd. The PEM contents are read from the files the operator
 * named when the settings are resolved, so a missing or unreadable file is found at start-up.
 */
export interface EtcdAccess {
  readonly tls?: {
    /** CA bundle that signed etcd's server certificate; absent: the system's CAs. */
    readonly ca?: Buffer;
    /** Client certificate and its key, for an etcd started with `--client-cert-auth`. */
    readonly cert?: Buffer;
    readonly key?: Secret<Buffer>;
  };
  readonly auth?: { readonly username: string; readonly password: Secret };
}

/**
 * A value that must never reach a log, an error message or a printed config: it shows as
 * `[redacted]` however it is turned into text (JSON, pino, util.inspect, template strings),
 * and only `reveal()` gives the value, at the one place that hands it to the etcd client.
 * Passwords and private keys are kept this way.
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}
