import type { CompiledWebhookExport } from '../../model/index.js';
import type { Notification, Sink, SinkFactory } from '../types.js';
import { httpTarget, postJson } from './http.js';
import { statusWord, webhookMessage } from './payload.js';

export { httpTarget, isRetryableStatus, postJson, type HttpTarget } from './http.js';
export * from './payload.js';

/** The header that carries the notification id, so a receiver can drop duplicates. */
export const NOTIFICATION_ID_HEADER = 'X-Alertmgr-Notification-Id';

/**
 * `webhookExport`: POSTs each notification as an Alertmanager version 4 webhook body, so
 * tools written for Alertmanager receivers take alertmgr's notifications unchanged.
 *
 * One request per notification, each bounded by the configured `timeout`. With
 * `sendResolved: false`, resolved and deleted alerts are skipped (and count as delivered).
 * Configured headers go on every request and nowhere else: not into errors, not into logs.
 */
export const webhookSink: SinkFactory<CompiledWebhookExport> = (config): Sink => {
  const target = httpTarget(config.url);
  // Closing aborts requests in flight, so a hanging receiver cannot hold a shutdown.
  const closing = new AbortController();

  return {
    async send(notification: Notification): Promise<void> {
      if (!config.sendResolved && statusWord(notification) === 'resolved') return;

      // Set rather than spread, so a configured header of the same name in other case
      // cannot add a second value.
      const headers = new Headers(config.headers);
      headers.set(NOTIFICATION_ID_HEADER, notification.id);
      await postJson(target, webhookMessage(notification), {
        headers,
        timeoutMs: config.timeoutMs,
        signal: closing.signal,
      });
    },

    async close(): Promise<void> {
      closing.abort();
    },
  };
};
