import { appendFile } from 'node:fs/promises';

import type { CompiledFileExport } from '../../model/index.js';
import type { Notification, Sink, SinkFactory } from '../types.js';

/**
 * `fileExport`: one JSON object per line, appended to `path`. The file is opened for each
 * append, so a log rotation that moves the file away is followed without a signal.
 */
export const fileSink: SinkFactory<CompiledFileExport> = (config): Sink => ({
  async send(notification: Notification): Promise<void> {
    await appendFile(config.path, `${JSON.stringify(fileRecord(notification))}\n`, 'utf8');
  },
  async close(): Promise<void> {},
});

export function fileRecord(notification: Notification) {
  return {
    id: notification.id,
    event: notification.event,
    state: notification.state,
    time: notification.time,
    policy: notification.policy.id,
    alert: notification.alert,
  };
}
