import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Alert } from '../../../src/model/index.js';
import { notificationId, type AlertEvent, type Notification } from '../../../src/exporter/types.js';

/** One request as the receiver saw it, body parsed as JSON. */
export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: any;
}

/** What the receiver does with request number `index` (0-based): a status, or never answer. */
export type Answer = (request: Received, index: number) => number | 'hang';

/**
 * A real HTTP receiver on 127.0.0.1 with a kernel-picked port. It records every request and
 * answers as `answer` says, so tests see exactly what went over the wire.
 */
export class Receiver {
  readonly requests: Received[] = [];
  answer: Answer = () => 200;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const received: Received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: text ? JSON.parse(text) : undefined,
        };
        receiver.requests.push(received);
        const status = receiver.answer(received, receiver.requests.length - 1);
        if (status === 'hang') return;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status < 300 ? 'ok' : `refused with ${status}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    // Hanging requests would otherwise keep `close` waiting for ever.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const STATE_AFTER: Record<AlertEvent, Notification['state']> = {
  open: 'open',
  reopen: 'open',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  deleted: 'deleted',
};

/** An alert of policy `node-down/42` about Node default/n1, opened at `openedAt`. */
export function sampleAlert(
  openedAt = '2024-05-01T10:00:00.000Z',
  name = 'node-down-n1-abc',
): Alert {
  return {
    kind: 'Alert',
    meta: { name, tenant: 'default', creationTime: openedAt, modTime: openedAt },
    spec: { state: 'open' },
    status: {
      severity: 'critical',
      message: 'node n1 is down',
      objectRef: { kind: 'Node', tenant: 'default', name: 'n1' },
      reason: {
        policyId: 'node-down/42',
        matchedRequirements: [
          { key: 'status.health', operator: 'equals', values: ['down'], observedValue: 'down' },
          { key: 'meta.labels.rack', operator: 'in', values: ['r1', 'r2'], observedValue: 'r1' },
        ],
      },
      totalHits: 1,
    },
  };
}

/** The notification for `event` on `alert`, with the id the exporter stage would give it. */
export function sampleNotification(
  event: AlertEvent,
  time: string,
  alert: Alert = sampleAlert(),
): Notification {
  const state = STATE_AFTER[event];
  const spec = state === 'deleted' ? alert.spec : { state };
  return {
    id: notificationId(alert.meta.name, alert.status.totalHits, state),
    event,
    state,
    alert: { ...alert, spec },
    policy: { id: 'node-down/42', name: 'node-down', tenant: 'default' },
    destinations: ['hooks'],
    time,
  };
}
