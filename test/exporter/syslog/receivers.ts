import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';

/** A UDP syslog receiver on 127.0.0.1 that keeps every datagram. */
export class UdpReceiver {
  readonly messages: Buffer[] = [];

  private constructor(
    private readonly socket: UdpSocket,
    readonly port: number,
  ) {
    socket.on('message', (message) => this.messages.push(message));
  }

  static start(port = 0): Promise<UdpReceiver> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve(new UdpReceiver(socket, socket.address().port)));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * A TCP syslog receiver on 127.0.0.1 that reads RFC 6587 octet-counted frames. Anything
 * that is not a frame is recorded in `framingErrors`, so a test sees broken framing.
 */
export class TcpReceiver {
  readonly messages: Buffer[] = [];
  readonly framingErrors: string[] = [];
  connections = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** `reading: false` accepts connections but never reads: a stalled receiver. */
  static start(port = 0, { reading = true } = {}): Promise<TcpReceiver> {
    const server = createServer({ pauseOnConnect: !reading });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        const receiver = new TcpReceiver(server, typeof address === 'object' ? address!.port : 0);
        server.on('connection', (socket) => receiver.accept(socket, reading));
        resolve(receiver);
      });
    });
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  get messageTexts(): string[] {
    return this.messages.map((message) => message.toString('utf8'));
  }

  /** Stops listening and cuts every open connection, as a receiver that dies does. */
  stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket, reading: boolean): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    if (!reading) return;

    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      buffered = this.takeFrames(buffered);
    });
  }

  /** Takes every complete frame off the front of `data`; returns what is left. */
  private takeFrames(data: Buffer): Buffer {
    for (;;) {
      const space = data.indexOf(0x20);
      if (space < 0) return data;
      const length = data.subarray(0, space).toString('ascii');
      if (!/^[1-9][0-9]*$/.test(length)) {
        this.framingErrors.push(`bad frame length ${JSON.stringify(length)}`);
        return Buffer.alloc(0);
      }
      const end = space + 1 + Number(length);
      if (data.length < end) return data;
      this.messages.push(data.subarray(space + 1, end));
      data = data.subarray(end);
    }
  }
}
