import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { systemClock } from '../../../src/clock.js';
import { DeliveryError } from '../../../src/errors.js';
import { webhookSink } from '../../../src/exporter/webhook/index.js';
import { ExportWorker } from '../../../src/exporter/worker.js';
import { silentLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import type { CompiledWebhookExport } from '../../../src/model/index.js';
import { waitFor } from '../../helpers/poll.js';
import { freePort } from '../../helpers/ports.js';
import { Receiver, sampleNotification } from './receiver.js';

const OPENED = '2024-05-01T10:00:00.000Z';
const LATER = '2024-05-01T10:05:00.000Z';
const context = { log: silentLogger(), clock: systemClock };

let receiver: Receiver;

beforeEach(async () => {
  receiver = await Receiver.start();
});

afterEach(async () => {
  await receiver.close();
});

function sinkFor(overrides: Partial<CompiledWebhookExport> = {}) {
  return webhookSink(
    { url: receiver.url(), timeoutMs: 2_000, headers: {}, sendResolved: true, ...overrides },
    context,
  );
}

/** Runs `send` and returns the DeliveryError it rejects with. */
async function refusal(promise: Promise<void>): Promise<DeliveryError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DeliveryError);
  return err as DeliveryError;
}

describe('webhook body', () => {
  it('is an Alertmanager version 4 message with the alert as labels and annotations', async () => {
    await sinkFor().send(sampleNotification('open', OPENED));

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook');
    const labels = {
      alertname: 'node-down',
      severity: 'critical',
      tenant: 'default',
      kind: 'Node',
      object: 'n1',
      alert: 'node-down-n1-abc',
      state: 'open',
    };
    const annotations = {
      summary: 'node n1 is down',
      message: 'node n1 is down',
      policy: 'node-down/42',
      requirements:
        'status.health equals [down] (observed down)\n' +
        'meta.labels.rack in [r1, r2] (observed r1)',
    };
    expect(request!.body).toEqual({
      version: '4',
      groupKey: '{}:{alert="node-down-n1-abc", alertname="node-down", tenant="default"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'alertmgr',
      groupLabels: { alertname: 'node-down', tenant: 'default', alert: 'node-down-n1-abc' },
      commonLabels: labels,
      commonAnnotations: annotations,
      externalURL: '',
      alerts: [
        {
          status: 'firing',
          labels,
          annotations,
          startsAt: OPENED,
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
        },
      ],
    });
  });

  it.each([
    ['reopen', 'firing', 'open'],
    ['acknowledged', 'firing', 'acknowledged'],
    ['resolved', 'resolved', 'resolved'],
    ['deleted', 'resolved', 'deleted'],
  ] as const)('sends %s as %s with state %s', async (event, status, state) => {
    await sinkFor().send(sampleNotification(event, LATER));

    const { body } = receiver.requests[0]!;
    expect(body.status).toBe(status);
    expect(body.alerts[0].status).toBe(status);
    expect(body.alerts[0].labels.state).toBe(state);
    expect(body.alerts[0].startsAt).toBe(OPENED);
    expect(body.alerts[0].endsAt).toBe(status === 'resolved' ? LATER : '0001-01-01T00:00:00Z');
  });

  it('keeps the fingerprint and group key of an alert through its states', async () => {
    const sink = sinkFor();
    for (const event of ['open', 'acknowledged', 'resolved', 'deleted'] as const) {
      await sink.send(sampleNotification(event, LATER));
    }

    const bodies = receiver.requests.map((r) => r.body);
    expect(new Set(bodies.map((b) => b.alerts[0].fingerprint)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.groupKey)).size).toBe(1);
  });

  it('writes a summary when the policy has no message', async () => {
    const notification = sampleNotification('open', OPENED);
    notification.alert.status.message = '';
    await sinkFor().send(notification);

    expect(receiver.requests[0]!.body.alerts[0].annotations.summary).toBe(
      'node-down matches Node default/n1',
    );
  });
});

describe('webhook headers', () => {
  it('carries the configured headers, the notification id and the JSON content type', async () => {
    const headers = { Authorization: 'Bearer s3cret', 'X-Team': 'storage' };
    await sinkFor({ headers }).send(sampleNotification('open', OPENED));

    const received = receiver.requests[0]!.headers;
    expect(received.authorization).toBe('Bearer s3cret');
    expect(received['x-team']).toBe('storage');
    expect(received['x-alertmgr-notification-id']).toBe('node-down-n1-abc:1:open');
    expect(received['content-type']).toBe('application/json');
  });

  it('keeps one notification id even if a header of that name is configured', async () => {
    const headers = { 'x-alertmgr-notification-id': 'spoofed' };
    await sinkFor({ headers }).send(sampleNotification('resolved', LATER));

    expect(receiver.requests[0]!.headers['x-alertmgr-notification-id']).toBe(
      'node-down-n1-abc:1:resolved',
    );
  });

  it('turns user:password in the URL into Basic authorization', async () => {
    const url = `http://hook%40user:pa%3Ass@127.0.0.1:${receiver.port}/hook`;
    await sinkFor({ url }).send(sampleNotification('open', OPENED));

    const expected = `Basic ${Buffer.from('hook@user:pa:ss').toString('base64')}`;
    expect(receiver.requests[0]!.headers.authorization).toBe(expected);
  });
});

describe('sendResolved false', () => {
  it('skips resolved and deleted alerts and still sends firing ones', async () => {
    const sink = sinkFor({ sendResolved: false });
    await sink.send(sampleNotification('resolved', LATER));
    await sink.send(sampleNotification('deleted', LATER));
    await sink.send(sampleNotification('acknowledged', LATER));

    expect(receiver.requests.map((r) => r.body.alerts[0].labels.state)).toEqual(['acknowledged']);
  });
});

describe('webhook failures', () => {
  it('gives up on a receiver that hangs after the timeout, retryably', async () => {
    receiver.answer = () => 'hang';
    const started = Date.now();

    const err = await refusal(sinkFor({ timeoutMs: 300 }).send(sampleNotification('open', OPENED)));

    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/timed out after 300 ms/);
  });

  it.each([500, 503, 429])('retries a %i', async (status) => {
    receiver.answer = () => status;

    const err = await refusal(sinkFor().send(sampleNotification('open', OPENED)));

    expect(err.retryable).toBe(true);
    expect(err.message).toContain(String(status));
  });

  it.each([400, 404, 413])('gives up on a %i', async (status) => {
    receiver.answer = () => status;

    const err = await refusal(sinkFor().send(sampleNotification('open', OPENED)));

    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`refused with ${status}`);
  });

  it('retries when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hook`;

    const err = await refusal(sinkFor({ url }).send(sampleNotification('open', OPENED)));

    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('keeps credentials and the URL path out of errors', async () => {
    receiver.answer = () => 400;
    const url = `http://user:pw-secret@127.0.0.1:${receiver.port}/hooks/token-secret`;
    const headers = { Authorization: 'Bearer header-secret' };

    const err = await refusal(sinkFor({ url, headers }).send(sampleNotification('open', OPENED)));

    expect(err.message).not.toMatch(/secret/);
    expect(err.destination).toBe(`http://127.0.0.1:${receiver.port}`);
  });

  it('aborts a request in flight when closed', async () => {
    receiver.answer = () => 'hang';
    const sink = sinkFor({ timeoutMs: 30_000 });
    const sending = refusal(sink.send(sampleNotification('open', OPENED)));
    await waitFor(() => receiver.requests.length === 1, { what: 'the request' });

    await sink.close();

    expect((await sending).retryable).toBe(true);
  });
});

describe('webhook behind an export worker', () => {
  it('delivers once after a 500, with the same notification id', async () => {
    receiver.answer = (_request, index) => (index === 0 ? 500 : 200);
    const metrics = createMetrics(new Registry());
    const settled: string[] = [];
    const worker = new ExportWorker({
      destination: 'default/hooks',
      kind: 'webhookExport',
      sink: sinkFor(),
      clock: systemClock,
      log: silentLogger(),
      metrics,
      onSettled: (n) => settled.push(n.id),
    });

    worker.enqueue(sampleNotification('open', OPENED));
    await waitFor(() => receiver.requests.length === 2 && worker.idle, { what: 'the retry' });
    expect(settled).toEqual(['node-down-n1-abc:1:open']);
    await worker.close();

    const ids = receiver.requests.map((r) => r.headers['x-alertmgr-notification-id']);
    expect(ids).toEqual(['node-down-n1-abc:1:open', 'node-down-n1-abc:1:open']);
    const counts = (await metrics.notifications.get()).values;
    const result = (name: string) => counts.find((v) => v.labels.result === name)?.value ?? 0;
    expect([result('failed'), result('sent'), result('dropped')]).toEqual([1, 1, 0]);
  });
});
