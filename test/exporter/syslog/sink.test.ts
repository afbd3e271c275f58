import { afterEach, describe, expect, it } from 'vitest';

import { systemClock } from '../../../src/clock.js';
import { DeliveryError } from '../../../src/errors.js';
import { formatBsd, formatRfc5424 } from '../../../src/exporter/syslog/format.js';
import { createSyslogSink } from '../../../src/exporter/syslog/index.js';
import type { Sink } from '../../../src/exporter/types.js';
import { silentLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/poll.js';
import { freePort } from '../../helpers/ports.js';
import { compileSyslog, makeNotification } from './fixtures.js';
import { TcpReceiver, UdpReceiver } from './receivers.js';

const origin = { facilityCode: 1, appName: 'alertmgr', hostname: 'host1', procId: '4242' };
const time = new Date('2026-03-04T05:06:07.890Z');

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openSink(targets: Array<[string, number]>, format = 'rfc5424', timeoutMs = 2_000): Sink {
  const config = compileSyslog({
    format,
    targets: targets.map(([transport, port]) => ({
      destination: '127.0.0.1',
      transport: `${transport}/${port}`,
    })),
  });
  const sink = createSyslogSink(
    config,
    { log: silentLogger(), clock: systemClock },
    { hostname: 'host1', procId: '4242', timeoutMs },
  );
  cleanups.push(() => sink.close());
  return sink;
}

async function udpReceiver(): Promise<UdpReceiver> {
  const receiver = await UdpReceiver.start();
  cleanups.push(() => receiver.close());
  return receiver;
}

async function tcpReceiver(port = 0, options = {}): Promise<TcpReceiver> {
  const receiver = await TcpReceiver.start(port, options);
  cleanups.push(() => receiver.stop());
  return receiver;
}

/** Sends until a send rejects, as the worker's retries would; returns the rejection. */
async function firstRejection(sink: Sink, notification = makeNotification()): Promise<unknown> {
  return waitFor(
    () =>
      sink.send(notification).then(
        () => false as const,
        (err: unknown) => ({ err }),
      ),
    { timeoutMs: 5_000, what: 'a send to reject' },
  ).then(({ err }) => err);
}

describe('syslog sink over UDP', () => {
  it('sends one datagram per notification, exactly the formatted message', async () => {
    const receiver = await udpReceiver();
    const sink = openSink([['UDP', receiver.port]]);
    const notification = makeNotification({ message: 'Grüße' });

    await sink.send(notification);

    await waitFor(() => receiver.messages.length === 1, { what: 'the datagram' });
    expect(receiver.messages[0]!.toString('utf8')).toBe(formatRfc5424(notification, origin, time));
  });

  it('gives up at once on a message too large for a datagram', async () => {
    const receiver = await udpReceiver();
    const sink = openSink([['udp', receiver.port]]);

    const err = await sink.send(makeNotification({ message: 'x'.repeat(70_000) })).catch((e) => e);

    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`udp://127.0.0.1:${receiver.port}`);
  });
});

describe('syslog sink over TCP', () => {
  it('sends octet-counted frames over one connection', async () => {
    const receiver = await tcpReceiver();
    const sink = openSink([['TCP', receiver.port]], 'bsd');
    const notifications = [
      makeNotification(),
      makeNotification({ state: 'acknowledged', message: 'first\nsecond' }),
      makeNotification({ state: 'resolved', message: 'Grüße' }),
    ];

    for (const notification of notifications) await sink.send(notification);

    await waitFor(() => receiver.messages.length === 3, { what: 'three frames' });
    expect(receiver.framingErrors).toEqual([]);
    expect(receiver.messageTexts).toEqual(notifications.map((n) => formatBsd(n, origin, time)));
    expect(receiver.connections).toBe(1);
  });

  it('counts bytes, not characters, in the frame length', async () => {
    const receiver = await tcpReceiver();
    const sink = openSink([['tcp', receiver.port]]);
    const notification = makeNotification({ message: 'Überhitzung 🔥' });

    await sink.send(notification);
    await sink.send(makeNotification({ state: 'resolved' }));

    await waitFor(() => receiver.messages.length === 2, { what: 'two frames' });
    expect(receiver.framingErrors).toEqual([]);
    expect(receiver.messageTexts[0]).toBe(formatRfc5424(notification, origin, time));
  });

  it('rejects as retryable while the receiver is gone and reconnects once it is back', async () => {
    const first = await TcpReceiver.start();
    const { port } = first;
    const sink = openSink([['tcp', port]]);
    await sink.send(makeNotification());
    await waitFor(() => first.messages.length === 1, { what: 'the first frame' });

    await first.stop();
    const err: any = await firstRejection(sink, makeNotification({ state: 'resolved' }));
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`tcp://127.0.0.1:${port}`);

    const second = await tcpReceiver(port);
    const resolved = makeNotification({ state: 'resolved' });
    await sink.send(resolved);
    await waitFor(() => second.messages.length === 1, { what: 'the frame after reconnecting' });
    expect(second.messageTexts).toEqual([formatRfc5424(resolved, origin, time)]);
    expect(second.connections).toBe(1);
    expect(second.framingErrors).toEqual([]);
  });

  it('reconnects when the receiver restarts between two notifications', async () => {
    const first = await TcpReceiver.start();
    const { port } = first;
    const sink = openSink([['tcp', port]]);
    await sink.send(makeNotification());
    await waitFor(() => first.messages.length === 1, { what: 'the first frame' });

    await first.stop();
    const second = await tcpReceiver(port);
    const resolved = makeNotification({ state: 'resolved' });
    // The receiver's FIN is already in the local kernel, not yet seen by the event loop: the
    // sink must notice before writing, or this message would go into the dead connection.
    await sink.send(resolved);

    await waitFor(() => second.messages.length === 1, { what: 'the frame after the restart' });
    expect(second.messageTexts).toEqual([formatRfc5424(resolved, origin, time)]);
    expect(second.framingErrors).toEqual([]);
  });

  it('times out a write the receiver does not read and reconnects for the next', async () => {
    const receiver = await tcpReceiver(0, { reading: false });
    const sink = openSink([['tcp', receiver.port]], 'rfc5424', 300);

    // More than the kernel buffers on both ends hold, so the write cannot complete.
    const huge = makeNotification({ message: 'x'.repeat(32 * 1024 * 1024) });
    const err = await sink.send(huge).catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/write timed out after 300 ms/);

    await sink.send(makeNotification({ state: 'resolved' }));
    await waitFor(() => receiver.connections === 2, { what: 'a second connection' });
  });

  it('names the target when the connection is refused', async () => {
    const port = await freePort();
    const sink = openSink([['tcp', port]]);

    const err = await sink.send(makeNotification()).catch((e) => e);

    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`cannot connect to tcp://127.0.0.1:${port}`);
  });

  it('ends the connection on close', async () => {
    const receiver = await tcpReceiver();
    const sink = openSink([['tcp', receiver.port]]);
    await sink.send(makeNotification());
    await waitFor(() => receiver.openConnections === 1, { what: 'the connection' });

    await sink.close();

    await waitFor(() => receiver.openConnections === 0, { what: 'the connection to end' });
    expect(receiver.messages).toHaveLength(1);
  });
});

describe('syslog sink with several targets', () => {
  it('succeeds only when every target took it, and retries only the missing', async () => {
    const udp = await udpReceiver();
    const tcpPort = await freePort();
    const sink = openSink([
      ['udp', udp.port],
      ['tcp', tcpPort],
    ]);
    const notification = makeNotification();

    const err = await sink.send(notification).catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`tcp://127.0.0.1:${tcpPort}`);
    await waitFor(() => udp.messages.length === 1, { what: 'the datagram' });

    const tcp = await tcpReceiver(tcpPort);
    await sink.send(notification);
    await waitFor(() => tcp.messages.length === 1, { what: 'the retried frame' });
    expect(udp.messages).toHaveLength(1);

    await sink.send(makeNotification({ state: 'resolved' }));
    await waitFor(() => udp.messages.length === 2 && tcp.messages.length === 2, {
      what: 'the next notification at both targets',
    });
  });
});
