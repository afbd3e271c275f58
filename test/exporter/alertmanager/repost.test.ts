import { PassThrough } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { isoTime } from '../../../src/clock.js';
import { DeliveryError } from '../../../src/errors.js';
import {
  alertmanagerSink,
  alertsUrl,
  AlertmanagerSink,
} from '../../../src/exporter/alertmanager/index.js';
import { createLogger, silentLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/poll.js';
import { Receiver, sampleAlert, sampleNotification } from '../webhook/receiver.js';
import { ManualClock } from './manual-clock.js';

/**
 * The re-post timer, driven by a manual clock, against a loopback HTTP receiver that stands
 * in for Alertmanager; alertmanager.test.ts runs the same sink against the real one.
 */

const MINUTE = 60_000;

let receiver: Receiver;
let clock: ManualClock;

beforeEach(async () => {
  receiver = await Receiver.start();
  clock = new ManualClock();
});

afterEach(async () => {
  await receiver.close();
});

function sinkFor(log = silentLogger()) {
  return alertmanagerSink({ url: receiver.url('/') }, { log, clock }) as AlertmanagerSink;
}

function now(offsetMs = 0): string {
  return isoTime(clock.now() + offsetMs);
}

/** Lets the sink's posts, started from a timer, reach the receiver. */
function posts(count: number) {
  return waitFor(() => receiver.requests.length === count, { what: `${count} posts` });
}

describe('alertmanager sink', () => {
  it('posts a firing alert with an end four intervals ahead', async () => {
    await sinkFor().send(sampleNotification('open', now()));

    const [request] = receiver.requests;
    expect(request!.path).toBe('/api/v2/alerts');
    expect(request!.body).toEqual([
      {
        labels: {
          alertname: 'node-down',
          severity: 'critical',
          tenant: 'default',
          kind: 'Node',
          object: 'n1',
          alert: 'node-down-n1-abc',
        },
        annotations: {
          summary: 'node n1 is down',
          message: 'node n1 is down',
          policy: 'node-down/42',
          requirements: expect.stringContaining('status.health equals [down]'),
          state: 'open',
        },
        startsAt: '2024-05-01T10:00:00.000Z',
        endsAt: now(4 * MINUTE),
      },
    ]);
  });

  it('re-posts firing alerts every minute until they resolve', async () => {
    const sink = sinkFor();
    await sink.send(sampleNotification('open', now()));
    expect(clock.pending).toBe(1);

    clock.advance(MINUTE);
    await posts(2);
    clock.advance(MINUTE);
    await posts(3);

    const reposts = receiver.requests.slice(1).map((r) => r.body[0]);
    expect(reposts.map((a) => a.labels.alert)).toEqual(['node-down-n1-abc', 'node-down-n1-abc']);
    expect(reposts.map((a) => a.endsAt)).toEqual([now(3 * MINUTE), now(4 * MINUTE)]);

    await sink.send(sampleNotification('resolved', now()));
    expect(receiver.requests[3]!.body[0].endsAt).toBe(now());
    expect(sink.firingCount).toBe(0);

    clock.advance(5 * MINUTE);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.requests).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });

  it('keeps an acknowledged alert firing and re-posts its new state', async () => {
    const sink = sinkFor();
    await sink.send(sampleNotification('open', now()));
    await sink.send(sampleNotification('acknowledged', now()));

    clock.advance(MINUTE);
    await posts(3);

    const repost = receiver.requests[2]!.body;
    expect(repost).toHaveLength(1);
    expect(repost[0].annotations.state).toBe('acknowledged');
    expect(repost[0].endsAt).toBe(now(4 * MINUTE));
  });

  it('re-posts every firing alert in one request, and only those', async () => {
    const sink = sinkFor();
    const other = sampleAlert('2024-05-01T09:00:00.000Z', 'node-down-n2-def');
    await sink.send(sampleNotification('open', now()));
    await sink.send(sampleNotification('open', now(), other));
    await sink.send(sampleNotification('deleted', now(), other));

    clock.advance(MINUTE);
    await posts(4);

    expect(receiver.requests[3]!.body.map((a: any) => a.labels.alert)).toEqual([
      'node-down-n1-abc',
    ]);
  });

  it('ends the old alert when its labels change', async () => {
    const sink = sinkFor();
    await sink.send(sampleNotification('open', now()));
    const changed = sampleAlert();
    changed.status.severity = 'warn';
    clock.advance(1_000);
    await sink.send(sampleNotification('acknowledged', now(), changed));

    const [current, old] = receiver.requests[1]!.body;
    expect(current.labels.severity).toBe('warn');
    expect(current.endsAt).toBe(now(4 * MINUTE));
    expect(old.labels.severity).toBe('critical');
    expect(old.endsAt).toBe(now());
  });

  it('stops re-posting when closed', async () => {
    const sink = sinkFor();
    await sink.send(sampleNotification('open', now()));

    await sink.close();
    clock.advance(5 * MINUTE);
    await new Promise((r) => setTimeout(r, 100));

    expect(clock.pending).toBe(0);
    expect(receiver.requests).toHaveLength(1);
  });

  it('logs a failed re-post and tries again at the next tick', async () => {
    const lines: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const sink = sinkFor(createLogger({ level: 'warn', destination: stream }));
    receiver.answer = (_request, index) => (index === 1 ? 503 : 200);
    await sink.send(sampleNotification('open', now()));

    clock.advance(MINUTE);
    await waitFor(() => lines.some((l) => l.includes('re-posting firing alerts failed')));
    clock.advance(MINUTE);
    await posts(3);

    expect(lines.join('')).toContain('503');
  });

  it('sorts refusals like the webhook: 5xx retry, 4xx give up', async () => {
    const sink = sinkFor();
    receiver.answer = () => 500;
    const retry = await sink.send(sampleNotification('open', now())).catch((e: unknown) => e);
    receiver.answer = () => 400;
    const refuse = await sink.send(sampleNotification('open', now())).catch((e: unknown) => e);

    expect(retry).toBeInstanceOf(DeliveryError);
    expect((retry as DeliveryError).retryable).toBe(true);
    expect((refuse as DeliveryError).retryable).toBe(false);
  });
});

describe('alertsUrl', () => {
  it.each([
    ['http://127.0.0.1:9093', 'http://127.0.0.1:9093/api/v2/alerts'],
    ['http://127.0.0.1:9093/', 'http://127.0.0.1:9093/api/v2/alerts'],
    ['http://127.0.0.1:9093/am//', 'http://127.0.0.1:9093/am/api/v2/alerts'],
  ])('makes %s into %s', (base, url) => {
    expect(alertsUrl(base)).toBe(url);
  });
});
