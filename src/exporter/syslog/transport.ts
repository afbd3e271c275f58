import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, isIPv6, type Socket } from 'node:net';

import type { Clock } from '../../clock.js';
import { DeliveryError } from '../../errors.js';
import { F, type Logger } from '../../log.js';
import type { SyslogTarget } from '../../model/index.js';

export interface TransportOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Bounds connecting and each write, in milliseconds. */
  readonly timeoutMs: number;
}

/** Carries finished syslog messages to one target. */
export interface SyslogTransport {
  /** `udp://host:port` or `tcp://host:port`, naming the target in errors and logs. */
  readonly label: string;
  /**
   * Resolves once the message is handed to the operating system for the target; rejects
   * with a DeliveryError. Neither protocol has acknowledgements, so that is as far as a
   * sender can know.
   */
  send(message: Buffer): Promise<void>;
  close(): Promise<void>;
}

export function openTransport(target: SyslogTarget, options: TransportOptions): SyslogTransport {
  return target.protocol === 'tcp'
    ? new TcpTransport(target, options)
    : new UdpTransport(target, options);
}

export function targetLabel(target: SyslogTarget): string {
  const host = isIPv6(target.host) ? `[${target.host}]` : target.host;
  return `${target.protocol}://${host}:${target.port}`;
}

/**
 * RFC 6587 octet counting: `<length in bytes> <message>`. Unlike newline framing it cannot
 * be broken by the message's content, and receivers need not guess where a message ends.
 */
export function octetFrame(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

/**
 * One datagram per message, from one socket kept for the target. A socket that reported
 * an error is replaced by a new one at the next send.
 */
class UdpTransport implements SyslogTransport {
  readonly label: string;
  private socket: UdpSocket | undefined;
  private closed = false;

  constructor(
    private readonly target: SyslogTarget,
    private readonly o: TransportOptions,
  ) {
    this.label = targetLabel(target);
  }

  async send(message: Buffer): Promise<void> {
    if (this.closed) throw closedError(this.label);
    const socket = (this.socket ??= this.open());
    const sent = new Promise<void>((resolve, reject) => {
      socket.send(message, this.target.port, this.target.host, (err) =>
        err ? reject(err) : resolve(),
      );
    });

    // The name lookup behind a host name is what can hang here.
    try {
      await withTimeout(this.o, 'send', sent, () => this.drop(socket));
    } catch (err) {
      this.drop(socket);
      throw deliveryError(this.label, 'cannot send to', err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.socket) this.drop(this.socket);
  }

  private open(): UdpSocket {
    const socket = createSocket(isIPv6(this.target.host) ? 'udp6' : 'udp4');
    // Without a listener an 'error' event would crash the daemon; the send that caused it
    // has already rejected through its callback.
    socket.on('error', () => this.drop(socket));
    // An idle sink must not keep the process alive on its own.
    socket.unref();
    return socket;
  }

  private drop(socket: UdpSocket): void {
    if (this.socket === socket) this.socket = undefined;
    try {
      socket.close();
    } catch {
      // Already closed: nothing left to release.
    }
  }
}

/**
 * One connection kept open to the target and reused for every message. When it breaks
 * (the receiver closed it, a write failed or timed out) it is dropped, the send in
 * progress rejects as retryable, and the next send connects afresh.
 *
 * Known limitation: plain TCP syslog has no acknowledgement. A message the local kernel
 * took but the receiver never read (it died or restarted in between, or the connection
 * broke without a FIN reaching us yet) is lost, and its send has already resolved. Only a
 * protocol with acknowledgements, such as RELP, closes that gap.
 */
class TcpTransport implements SyslogTransport {
  readonly label: string;
  /** The open connection; unset while there is none or it is known to be broken. */
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private closed = false;

  constructor(
    private readonly target: SyslogTarget,
    private readonly o: TransportOptions,
  ) {
    this.label = targetLabel(target);
  }

  async send(message: Buffer): Promise<void> {
    if (this.closed) throw closedError(this.label);
    const socket = await this.usableConnection();

    try {
      await withTimeout(this.o, 'write', write(socket, octetFrame(message)), () =>
        socket.destroy(),
      );
    } catch (err) {
      // A frame may be half written, and the receiver would read what follows as garbage:
      // the stream is trusted again only on a new connection.
      this.discard(socket, err);
      throw deliveryError(this.label, 'cannot write to', err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    this.socket = undefined;
    if (!socket || socket.destroyed) return;

    // `end` sends what is still buffered before the FIN; a receiver that never closes its
    // side is cut off after the timeout.
    const ended = new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
    });
    await withTimeout(this.o, 'close', ended, () => socket.destroy()).catch(() => {});
  }

  /**
   * The connection, once the events the kernel has already delivered for it are handled.
   * A receiver's FIN or RST is noticed only when the event loop polls, and back-to-back
   * sends can run without a poll in between; until one comes, a dead connection looks
   * alive and a message written into it is lost. Nothing is written yet when it turns out
   * dead here, so a fresh connection is safe to use.
   */
  private async usableConnection(): Promise<Socket> {
    const socket = await this.connection();
    await afterNextPoll();
    return socket === this.socket ? socket : this.connection();
  }

  private connection(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    // Concurrent sends share one attempt rather than opening a connection each.
    this.connecting ??= this.connect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async connect(): Promise<Socket> {
    const socket = createConnection({ host: this.target.host, port: this.target.port });
    let onError: (err: Error) => void = () => {};
    const connected = new Promise<void>((resolve, reject) => {
      onError = reject;
      socket.once('connect', resolve);
      socket.on('error', onError);
    });

    try {
      await withTimeout(this.o, 'connect', connected, () => socket.destroy());
    } catch (err) {
      socket.destroy();
      throw deliveryError(this.label, 'cannot connect to', err);
    } finally {
      socket.off('error', onError);
    }
    if (this.closed) {
      socket.destroy();
      throw closedError(this.label);
    }

    this.adopt(socket);
    return socket;
  }

  private adopt(socket: Socket): void {
    socket.setNoDelay(true);
    // A receiver that vanished without closing (host down, cable cut) is found by
    // keepalive probes while idle, not only by the next alert's write timing out.
    socket.setKeepAlive(true, 30_000);
    // Syslog receivers do not talk back; whatever arrives is read and dropped so it can
    // never fill the buffers.
    socket.resume();
    socket.on('error', (err) => this.discard(socket, err));
    socket.on('end', () => this.discard(socket, new Error('closed by the receiver')));
    socket.on('close', () => this.discard(socket, new Error('connection closed')));

    this.socket = socket;
    this.o.log.info({ target: this.label }, 'syslog connection open');
  }

  /** Forgets a connection that can no longer be trusted; logs the first sign of it. */
  private discard(socket: Socket, reason: unknown): void {
    socket.destroy();
    if (this.socket !== socket) return;

    this.socket = undefined;
    if (!this.closed) {
      this.o.log.warn(
        { target: this.label, [F.err]: String(reason) },
        'syslog connection lost; the next notification reconnects',
      );
    }
  }
}

/**
 * Resolves after the event loop has polled for I/O at least once. One `setImmediate` can
 * run in the current turn's check phase, right after a poll that began before the event
 * arrived; the second runs only after the next poll.
 */
function afterNextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/** Settles as `work` does, or rejects after the timeout, calling `onTimeout` first. */
function withTimeout<T>(
  o: TransportOptions,
  what: string,
  work: Promise<T>,
  onTimeout: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = o.clock.setTimer(o.timeoutMs, () => {
      onTimeout();
      reject(new Error(`${what} timed out after ${o.timeoutMs} ms`));
    });
    work.then(
      (value) => {
        o.clock.clearTimer(timer);
        resolve(value);
      },
      (err: unknown) => {
        o.clock.clearTimer(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

function closedError(label: string): DeliveryError {
  return new DeliveryError(label, `${label}: the sink is closed`, { retryable: false });
}

/**
 * A datagram too large for UDP is too large on every try, so it is not retried; any other
 * network failure (refused, reset, timed out, no route) can pass by the next attempt.
 */
function deliveryError(label: string, action: string, cause: unknown): DeliveryError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new DeliveryError(label, `${action} ${label}: ${detail}`, {
    retryable: code !== 'EMSGSIZE',
    cause,
  });
}
