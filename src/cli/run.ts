import type { DaemonConfig } from '../daemon/config.js';
import { startHttpServer, type HttpServer } from '../http/index.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { EtcdStore, MemoryStore, type Store } from '../store/index.js';
import { EXIT_FAILURE, EXIT_OK } from './errors.js';
import { etcdStoreOptions } from './etcd-access.js';
import type { Io } from './io.js';

/**
 * What `run` needs of the daemon, as `src/daemon/index.ts` provides it. Stated here by shape
 * so that the command line depends on the daemon only when `run` is actually used.
 */
export interface RunnableDaemon {
  isReady(): boolean;
  stop(): Promise<void>;
  /** Resolves with an exit code when the daemon dies on its own. */
  readonly done: Promise<number>;
}

export type StartDaemon = (deps: {
  config: DaemonConfig;
  store: Store;
  log: Logger;
  metrics: Metrics;
}) => Promise<RunnableDaemon>;

/** Where SIGTERM and SIGINT come from: `process`, or an emitter in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

export interface RunOptions {
  readonly startDaemon: StartDaemon;
  readonly signals?: SignalSource;
  /** How long a stop may drain in-flight writes and exports; the contract says 10 s. */
  readonly drainMs?: number;
}

/**
 * The contract gives a stop 10 s at most. The daemon drains for 8 s of them; the rest is for
 * closing the HTTP server and the etcd client, which may themselves wait on a dead peer.
 */
const DRAIN_MS = 9_000;
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Runs the daemon until a signal or its own end. The HTTP server starts first so that
 * `/healthz` answers while the daemon is still loading and `/readyz` says it is not ready.
 * Returns 0 after a signal (once drained, or after `drainMs` at most), or the daemon's code
 * when it ended on its own.
 */
export async function runDaemon(
  config: DaemonConfig,
  io: Io,
  options: RunOptions,
): Promise<number> {
  const log = createLogger({
    level: config.logLevel,
    destination: io.stdout,
    pretty: (io.stdout as { isTTY?: boolean }).isTTY === true,
  });
  const metrics = createMetrics();
  const store: Store =
    config.store === 'memory'
      ? new MemoryStore()
      : new EtcdStore(etcdStoreOptions(config.etcdEndpoints, config.etcdAccess));
  const signal = stopSignal(options.signals ?? process);

  let daemon: RunnableDaemon | undefined;
  let http: HttpServer | undefined;
  try {
    http = await startHttpServer({
      ...config.http,
      registry: metrics.registry,
      isReady: () => daemon?.isReady() ?? false,
      log,
    });

    const starting = options.startDaemon({ config, store, log, metrics });
    const first = await Promise.race([starting, signal.received]);
    if (typeof first === 'string') {
      // A signal during start-up: stop the daemon as soon as it exists, within the same bound.
      log.info({ signal: first }, 'stopping');
      return await drain(
        starting.then((started) => started.stop()),
        options,
        log,
      );
    }

    daemon = first;
    const outcome = await Promise.race([daemon.done, signal.received]);
    if (typeof outcome === 'number') {
      log.error({ code: outcome }, 'daemon stopped on its own');
      return outcome;
    }
    log.info({ signal: outcome }, 'stopping');
    return await drain(daemon.stop(), options, log);
  } catch (err) {
    log.error({ err }, 'alertmgr failed');
    throw err;
  } finally {
    signal.dispose();
    await http?.close();
    await store.close();
  }
}

/** Waits for the stop to finish, at most `drainMs`; past that the process exits anyway. */
async function drain(stopping: Promise<void>, options: RunOptions, log: Logger): Promise<number> {
  const drainMs = options.drainMs ?? DRAIN_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), drainMs);
  });

  try {
    const result = await Promise.race([stopping.then(() => 'stopped' as const), timeout]);
    if (result === 'timeout') log.warn({ drainMs }, 'stop did not finish in time; exiting anyway');
    else log.info('stopped');
    return EXIT_OK;
  } catch (err) {
    log.error({ err }, 'stop failed');
    return EXIT_FAILURE;
  } finally {
    clearTimeout(timer);
  }
}

/** The first stop signal; `dispose` removes the handlers, giving signals their defaults back. */
export function stopSignal(source: SignalSource = process) {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const received = new Promise<NodeJS.Signals>((resolve) => {
    for (const name of STOP_SIGNALS) handlers.set(name, () => resolve(name));
  });
  handlers.forEach((handler, name) => source.on(name, handler));
  return {
    received,
    dispose: () => handlers.forEach((handler, name) => source.off(name, handler)),
  };
}
