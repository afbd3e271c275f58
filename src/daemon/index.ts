import { systemClock, type Clock } from '../clock.js';
import { alertmanagerSink } from '../exporter/alertmanager/index.js';
import { fileSink } from '../exporter/file/index.js';
import { syslogSink } from '../exporter/syslog/index.js';
import type { Notification, SinkFactory } from '../exporter/types.js';
import { webhookSink } from '../exporter/webhook/index.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/index.js';
import { Supervisor } from '../supervisor/index.js';
import type { DaemonConfig } from './config.js';

export { DEFAULT_CONFIG, type DaemonConfig } from './config.js';

/**
 * The destination kinds this build can send, by the export block that configures them.
 * A new kind is one module exporting a `SinkFactory` and one line here.
 */
export const BUILTIN_SINKS: Readonly<Record<string, SinkFactory>> = {
  syslogExport: syslogSink as SinkFactory,
  fileExport: fileSink as SinkFactory,
  webhookExport: webhookSink as SinkFactory,
  alertmanagerExport: alertmanagerSink as SinkFactory,
};

export interface DaemonDeps {
  readonly config: DaemonConfig;
  readonly store: Store;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly clock?: Clock;
  /** Extra or replacement destination kinds, merged over the built-in ones. */
  readonly sinks?: Readonly<Record<string, SinkFactory>>;
  /** Called with every notification, whatever its destinations (the demo prints them). */
  readonly onNotification?: (notification: Notification) => void;
  /** How long `stop` waits for in-flight writes and notifications; the contract says 10 s. */
  readonly drainMs?: number;
}

export interface Daemon {
  /** True once the initial list is loaded and the watch is running. */
  isReady(): boolean;
  /** Stops gracefully: in-flight writes and notifications finish first (at most 10 s). */
  stop(): Promise<void>;
  /** Resolves with an exit code if the daemon gives up on its own (restart budget spent). */
  readonly done: Promise<number>;
  readonly supervisor: Supervisor;
}

export function startDaemon(deps: DaemonDeps): Promise<Daemon> {
  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (finish = resolve));
  const supervisor = new Supervisor({
    config: deps.config,
    store: deps.store,
    clock: deps.clock ?? systemClock,
    log: deps.log,
    metrics: deps.metrics,
    sinks: { ...BUILTIN_SINKS, ...deps.sinks },
    ...(deps.onNotification ? { onNotification: deps.onNotification } : {}),
    onFatal: (code) => finish(code),
  });
  deps.log.info({ prefix: deps.config.prefix, store: deps.config.store }, 'alertmgr starting');
  supervisor.start();
  let stopped: Promise<void> | undefined;
  return Promise.resolve({
    isReady: () => supervisor.isReady(),
    stop: () =>
      (stopped ??= supervisor.stop(deps.drainMs).then(() => deps.log.info('alertmgr stopped'))),
    done,
    supervisor,
  });
}
