import { Option } from 'commander';

import { DEFAULT_CONFIG, type DaemonConfig, type EtcdAccess } from '../daemon/config.js';
import { ValidationError } from '../errors.js';
import { formatDuration, normalizePrefix, parseDuration } from '../model/index.js';
import type { ConfigFile } from './config-file.js';
import { resolveEtcdAccess } from './etcd-access.js';

/**
 * Flags in three layers: what the user passes (a flag, else its `ALERTMGR_*` twin in the
 * environment, else the key of the same name in `run`'s settings file, else the default), a
 * resolve step that validates and normalises, and the compiled form the commands use
 * (`DaemonConfig`, `Connection`). A bad value is a ValidationError naming the flag, variable
 * or file key it came from, so the user knows which to fix.
 */

/** The environment twin of a flag: `--etcd-endpoints` → `ALERTMGR_ETCD_ENDPOINTS`. */
export function envName(long: string): string {
  return `ALERTMGR_${long.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

/**
 * A commander option whose help names its environment twin and default. Defaults are not
 * given to commander: the environment sits between flag and default, so they are applied in
 * `Settings` instead.
 */
export function flag(flags: string, description: string, fallback?: string): Option {
  const option = new Option(flags, description);
  const extra = [`env ${envName(option.long ?? '')}`];
  if (fallback !== undefined) extra.push(`default ${fallback}`);
  option.description = `${description} (${extra.join(', ')})`;
  return option;
}

/** The examples section of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/** A raw setting and where it came from, for messages. */
export interface Setting<T = string> {
  readonly value: T;
  /** `--prefix`, `ALERTMGR_PREFIX` or `/etc/alertmgr/config.yaml: prefix`. */
  readonly source: string;
  /** Set for a value from a settings file: the directory its relative paths start from. */
  readonly relativeTo?: string;
}

/**
 * Reads flags parsed by commander (`optsWithGlobals()`), falling back to the environment and
 * then to the settings file, when there is one.
 */
export class Settings {
  constructor(
    private readonly flags: Readonly<Record<string, unknown>>,
    private readonly env: NodeJS.ProcessEnv,
    private readonly file?: ConfigFile,
  ) {}

  /** The same flags and environment over a settings file. */
  withFile(file: ConfigFile): Settings {
    return new Settings(this.flags, this.env, file);
  }

  /** Whether the flag itself was given (not its twin), whatever its value. */
  given(long: string): boolean {
    return this.flags[attributeName(long)] !== undefined;
  }

  /** The flag's text, else its twin's, else the file's; an empty variable counts as unset. */
  text(long: string): Setting | undefined {
    const given = this.flags[attributeName(long)];
    if (typeof given === 'string') return { value: given, source: long };

    const name = envName(long);
    const fromEnv = this.env[name];
    return fromEnv ? { value: fromEnv, source: name } : this.fromFile(long);
  }

  /** A repeatable flag; its twin and the file hold the values separated by commas. */
  list(long: string): Setting<string[]> | undefined {
    const given = this.flags[attributeName(long)];
    if (Array.isArray(given)) return { value: given.map(String), source: long };

    const name = envName(long);
    const fromEnv = this.env[name];
    if (fromEnv) return { value: splitList(fromEnv), source: name };
    const fromFile = this.fromFile(long);
    return fromFile && { ...fromFile, value: splitList(fromFile.value) };
  }

  /** A switch: the flag sets it; its twin or the file may say true/false, 1/0, yes/no. */
  bool(long: string): boolean {
    if (this.flags[attributeName(long)] === true) return true;

    const name = envName(long);
    const fromEnv = this.env[name];
    const setting = fromEnv ? { value: fromEnv, source: name } : this.fromFile(long);
    if (setting === undefined) return false;
    const text = setting.value.trim().toLowerCase();
    if (['1', 'true', 'yes'].includes(text)) return true;
    if (['0', 'false', 'no'].includes(text)) return false;
    throw new ValidationError(
      setting.source,
      `expected true or false, got ${JSON.stringify(setting.value)}`,
    );
  }

  /** A text setting checked against a fixed set of choices. */
  choice<T extends string>(long: string, choices: readonly T[], fallback: T): T {
    const setting = this.text(long);
    if (setting === undefined) return fallback;
    if ((choices as readonly string[]).includes(setting.value)) return setting.value as T;
    throw new ValidationError(
      setting.source,
      `unknown value ${JSON.stringify(setting.value)}; expected one of ${choices.join(', ')}`,
    );
  }

  /** The variable itself, for settings that have no flag (the etcd password). */
  envOnly(name: string): Setting | undefined {
    const value = this.env[name];
    return value ? { value, source: name } : undefined;
  }

  private fromFile(long: string): Setting | undefined {
    const key = long.replace(/^--/, '');
    const value = this.file?.values.get(key);
    if (this.file === undefined || value === undefined) return undefined;
    return { value, source: `${this.file.path}: ${key}`, relativeTo: this.file.dir };
  }
}

function attributeName(long: string): string {
  return long.replace(/^--/, '').replace(/-([a-z])/g, (_, char: string) => char.toUpperCase());
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** What every command that talks to etcd needs. */
export interface Connection {
  readonly etcdEndpoints: readonly string[];
  /** Normalised: no trailing slash. */
  readonly prefix: string;
  readonly etcdAccess: EtcdAccess;
}

export function resolveConnection(settings: Settings): Connection {
  const etcdEndpoints = readEndpoints(settings.text('--etcd-endpoints'));
  return {
    etcdEndpoints,
    prefix: readPrefix(settings.text('--prefix'), DEFAULT_CONFIG.prefix),
    etcdAccess: resolveEtcdAccess(settings, etcdEndpoints),
  };
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The daemon's settings for `run`. */
export function resolveDaemonConfig(settings: Settings): DaemonConfig {
  const connection = resolveConnection(settings);
  const statePrefix = readPrefix(settings.text('--state-prefix'), DEFAULT_CONFIG.statePrefix);
  checkApart(connection.prefix, statePrefix, settings.text('--state-prefix')?.source);

  return {
    ...DEFAULT_CONFIG,
    store: settings.choice('--store', ['etcd', 'memory'], DEFAULT_CONFIG.store),
    ...connection,
    statePrefix,
    clearDurationMs: readDuration(
      settings.text('--clear-duration'),
      DEFAULT_CONFIG.clearDurationMs,
    ),
    gcRetentionMs: readDuration(settings.text('--gc-retention'), DEFAULT_CONFIG.gcRetentionMs),
    gcIntervalMs: readDuration(settings.text('--gc-interval'), DEFAULT_CONFIG.gcIntervalMs, 1),
    snapshotIntervalMs: readDuration(
      settings.text('--snapshot-interval'),
      DEFAULT_CONFIG.snapshotIntervalMs,
    ),
    restartBudget: readCount(settings.text('--restart-budget'), DEFAULT_CONFIG.restartBudget),
    restartWindowMs: readDuration(
      settings.text('--restart-window'),
      DEFAULT_CONFIG.restartWindowMs,
      1,
    ),
    http: readHostPort(settings.text('--http')) ?? DEFAULT_CONFIG.http,
    logLevel: settings.choice('--log-level', LOG_LEVELS, DEFAULT_CONFIG.logLevel),
  };
}

/** A whole number of at least 0, such as a count of restarts. */
function readCount(setting: Setting | undefined, fallback: number): number {
  if (setting === undefined) return fallback;
  const value = Number(setting.value.trim());
  if (setting.value.trim() === '' || !Number.isSafeInteger(value) || value < 0) {
    throw new ValidationError(
      setting.source,
      `expected a whole number of 0 or more, got ${JSON.stringify(setting.value)}`,
    );
  }
  return value;
}

function readEndpoints(setting: Setting | undefined): string[] {
  if (setting === undefined) return [...DEFAULT_CONFIG.etcdEndpoints];

  const endpoints = splitList(setting.value);
  if (endpoints.length === 0) {
    throw new ValidationError(setting.source, 'expected at least one endpoint');
  }
  for (const endpoint of endpoints) {
    if (!isHttpUrl(endpoint)) {
      throw new ValidationError(
        setting.source,
        `invalid endpoint ${JSON.stringify(endpoint)}: ` +
          'expected a URL such as http://127.0.0.1:2379',
      );
    }
  }
  return endpoints;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function readPrefix(setting: Setting | undefined, fallback: string): string {
  if (setting === undefined) return fallback;
  if (!setting.value.startsWith('/')) {
    throw new ValidationError(
      setting.source,
      `invalid prefix ${JSON.stringify(setting.value)}: expected a path starting with "/"`,
    );
  }
  return normalizePrefix(setting.value);
}

/**
 * The daemon watches everything under the prefix, so bookkeeping inside it would be read
 * back as objects; and a prefix inside the state prefix would be mistaken for bookkeeping.
 */
function checkApart(prefix: string, statePrefix: string, source = '--state-prefix'): void {
  const within = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`);
  if (within(statePrefix, prefix) || within(prefix, statePrefix)) {
    throw new ValidationError(
      source,
      `${JSON.stringify(statePrefix)} overlaps the prefix ${JSON.stringify(prefix || '/')}`,
    );
  }
}

export function readDuration(
  setting: Setting | undefined,
  fallback: number,
  minimumMs = 0,
): number {
  if (setting === undefined) return fallback;

  const ms = parseDuration(setting.value, setting.source);
  if (ms < minimumMs) {
    throw new ValidationError(setting.source, `must be at least ${formatDuration(minimumMs)}`);
  }
  return ms;
}

/** `HOST:PORT`, the host may be an IPv6 address in brackets (`[::1]:9464`); port 0 picks one. */
export function readHostPort(
  setting: Setting | undefined,
): { host: string; port: number } | undefined {
  if (setting === undefined) return undefined;

  const match = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(setting.value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!match || host === undefined || port > 65535) {
    throw new ValidationError(
      setting.source,
      `invalid address ${JSON.stringify(setting.value)}: expected HOST:PORT such as 127.0.0.1:9464`,
    );
  }
  return { host, port };
}
