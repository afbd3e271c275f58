import { isoTime, type Timer } from '../../clock.js';
import { F } from '../../log.js';
import type { CompiledAlertmanagerExport } from '../../model/index.js';
import type { Notification, Sink, SinkContext, SinkFactory } from '../types.js';
import { getJson, httpTarget, postJson, type HttpTarget } from '../webhook/http.js';
import { statusWord } from '../webhook/payload.js';
import { postableAlert, sameLabels, withEnd, type PostableAlert } from './postable.js';

export { postableAlert, type PostableAlert } from './postable.js';

export const DEFAULT_REPOST_INTERVAL_MS = 60_000;

/** The annotation that names the destination an alert was posted for. */
export const DESTINATION_ANNOTATION = 'alertmgr_destination';

/** What `GET /api/v2/alerts` returns of each alert, as far as adoption reads it. */
interface ActiveAlert {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * Firing alerts are posted with an end this many re-post intervals ahead. Alertmanager then
 * keeps them firing through a few lost re-posts, yet ends them on its own a few minutes after
 * alertmgr stops posting, whatever `resolve_timeout` it is configured with.
 */
const LIFETIME_INTERVALS = 4;

/** Alerts per request when re-posting, so thousands of firing alerts are not one huge body. */
const BATCH_SIZE = 500;

export interface AlertmanagerSinkOptions {
  /** How often every firing alert is posted again. Default 60 s. */
  readonly repostIntervalMs?: number;
  /** Bound on each request. Default 5 s, so a re-post ahead of a send fits the worker's 10 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * `alertmanagerExport`: keeps a Prometheus Alertmanager's view in step with alertmgr through
 * `POST <url>/api/v2/alerts`.
 *
 * Alertmanager forgets an alert once its end time passes, so a firing alert is sent with an
 * end a few minutes ahead and re-posted on a timer until it resolves; a resolution is sent
 * with its time as the end, which Alertmanager shows as resolved at once. Every request goes
 * through one queue, so a re-post built before a resolution can never land after it and fire
 * the alert again.
 *
 * The set of firing alerts lives in this sink's memory. So that a restart of alertmgr (or a
 * rebuilt destination) does not let Alertmanager end alerts that still fire, every alert is
 * posted with an `alertmgr_destination` annotation naming its destination, and a new sink
 * first takes over the alerts Alertmanager holds as active for that destination, then
 * re-posts them with the rest. alertmgr resolves or deletes them as usual.
 */
export class AlertmanagerSink implements Sink {
  private readonly target: HttpTarget;
  private readonly repostIntervalMs: number;
  private readonly requestTimeoutMs: number;
  /** Firing alerts by `<tenant>/<alert name>`, as last posted. */
  private readonly firing = new Map<string, PostableAlert>();
  private timer: Timer | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly closing = new AbortController();

  constructor(
    config: CompiledAlertmanagerExport,
    private readonly context: SinkContext,
    options: AlertmanagerSinkOptions = {},
  ) {
    this.target = httpTarget(alertsUrl(config.url));
    this.repostIntervalMs = options.repostIntervalMs ?? DEFAULT_REPOST_INTERVAL_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (context.destination) void this.serial(() => this.adopt(context.destination!));
  }

  /** Alerts this sink keeps re-posting; for tests and diagnostics. */
  get firingCount(): number {
    return this.firing.size;
  }

  async send(notification: Notification): Promise<void> {
    const key = `${notification.alert.meta.tenant}/${notification.alert.meta.name}`;
    const previous = this.firing.get(key);

    let alert: PostableAlert;
    if (statusWord(notification) === 'firing') {
      alert = this.mark(postableAlert(notification, this.firingEnd()));
      this.firing.set(key, alert);
      this.schedule();
    } else {
      // Forgotten before the post, so a re-post in between cannot revive it.
      this.firing.delete(key);
      alert = this.mark(postableAlert(notification, notification.time));
    }

    // Changed labels (a policy changed the severity) make a new alert in Alertmanager; the
    // old one is ended now rather than left firing until its end time.
    const batch = [alert];
    if (previous && !sameLabels(previous.labels, alert.labels)) {
      batch.push(withEnd(previous, isoTime(this.context.clock.now())));
    }
    await this.serial(() => this.post(batch));
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    if (this.timer) this.context.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  private mark(alert: PostableAlert): PostableAlert {
    const destination = this.context.destination;
    if (!destination) return alert;
    return {
      ...alert,
      annotations: { ...alert.annotations, [DESTINATION_ANNOTATION]: destination },
    };
  }

  /**
   * Takes over the alerts Alertmanager has active for this destination, posted by an earlier
   * sink (before a restart). Alerts already known here are left as they are. A failure only
   * costs those alerts their re-posts: it is logged and the sink carries on.
   */
  private async adopt(destination: string): Promise<void> {
    try {
      const active = await getJson<ActiveAlert[]>(this.target, {
        timeoutMs: this.requestTimeoutMs,
        signal: this.closing.signal,
      });
      for (const alert of active) {
        if (alert.annotations?.[DESTINATION_ANNOTATION] !== destination) continue;
        const key = `${alert.labels?.tenant ?? ''}/${alert.labels?.alert ?? ''}`;
        if (this.firing.has(key) || !alert.labels || !alert.startsAt) continue;
        this.firing.set(key, {
          labels: alert.labels,
          annotations: alert.annotations,
          startsAt: alert.startsAt,
          endsAt: alert.endsAt ?? this.firingEnd(),
          ...(alert.generatorURL ? { generatorURL: alert.generatorURL } : {}),
        });
      }
      if (this.firing.size > 0) this.schedule();
    } catch (err) {
      this.context.log.warn(
        { kind: 'alertmanagerExport', target: this.target.target, [F.err]: String(err) },
        'could not read the active alerts back; they are re-posted at their next change',
      );
    }
  }

  private firingEnd(): string {
    return isoTime(this.context.clock.now() + LIFETIME_INTERVALS * this.repostIntervalMs);
  }

  /** Runs `fn` after every request queued before it, whether those succeeded or not. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private post(alerts: PostableAlert[]): Promise<void> {
    return postJson(this.target, alerts, {
      timeoutMs: this.requestTimeoutMs,
      signal: this.closing.signal,
    });
  }

  /** Arms the re-post timer unless it runs already; it stops itself when nothing fires. */
  private schedule(): void {
    if (this.timer || this.closing.signal.aborted) return;
    this.timer = this.context.clock.setTimer(this.repostIntervalMs, () => this.tick());
  }

  private tick(): void {
    this.timer = undefined;
    if (this.closing.signal.aborted || this.firing.size === 0) return;

    // Re-armed before posting: the period stays fixed however long Alertmanager takes.
    this.schedule();
    void this.serial(() => this.repost()).catch((err: unknown) => {
      // The worker retries sends, not re-posts; the next tick is the retry, well before the
      // alerts' end time.
      this.context.log.warn(
        { kind: 'alertmanagerExport', target: this.target.target, [F.err]: String(err) },
        're-posting firing alerts failed',
      );
    });
  }

  /** Posts every alert firing now (not when the tick fired), with a fresh end time. */
  private async repost(): Promise<void> {
    const end = this.firingEnd();
    const alerts = [...this.firing.values()].map((alert) => withEnd(alert, end));
    for (let start = 0; start < alerts.length; start += BATCH_SIZE) {
      await this.post(alerts.slice(start, start + BATCH_SIZE));
    }
  }
}

/** `<url>/api/v2/alerts`, keeping a path prefix (Alertmanager behind `--web.route-prefix`). */
export function alertsUrl(base: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v2/alerts`;
  return url.href;
}

export const alertmanagerSink: SinkFactory<CompiledAlertmanagerExport> = (config, context) =>
  new AlertmanagerSink(config, context);
