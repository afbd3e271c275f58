import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of one loopback server (etcd in the fault tests), so a
 * test can break the network between a client and the server without touching either:
 *
 * - `cut()` resets every connection and resets each new one at once, as a dead link or a
 *   firewall that rejects would, until `heal()`;
 * - `stall()` keeps every connection open but forwards no byte in either direction, as a
 *   partition that drops packets would, until `heal()` delivers what was held back;
 *   `stall('to-client')` holds only what the server sends, so requests still arrive and
 *   take effect while their replies are lost (an ambiguous outcome for the client);
 * - `close()` stops listening and drops every connection.
 *
 * A connection that either side closes is closed on the other side too, so a restarted
 * server looks like a restarted server to the client.
 */
export interface TcpProxy {
  /** The port the proxy listens on. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the endpoint to hand to a client instead of the server's. */
  readonly endpoint: string;
  /** Connection pairs currently open. */
  readonly connections: number;
  /** Connections accepted so far, refused ones included. */
  readonly accepted: number;
  readonly mode: ProxyMode;
  cut(): void;
  stall(direction?: Direction): void;
  heal(): void;
  close(): Promise<void>;
}

export type ProxyMode = 'open' | 'cut' | 'stalled';

/** Which bytes a stall holds: both ways, or only those going to the client or the server. */
export type Direction = 'both' | 'to-client' | 'to-server';

/** One client connection and its connection to the server. */
class Pair {
  /** Bytes read while stalled, per direction, delivered on heal. */
  private readonly held = { up: [] as Buffer[], down: [] as Buffer[] };

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    private readonly stalled: () => Direction | undefined,
  ) {
    this.forward(client, upstream, this.held.up, 'to-server');
    this.forward(upstream, client, this.held.down, 'to-client');
  }

  stall(direction: Direction): void {
    if (direction !== 'to-client') this.client.pause();
    if (direction !== 'to-server') this.upstream.pause();
  }

  heal(): void {
    this.flush(this.upstream, this.held.up);
    this.flush(this.client, this.held.down);
    this.client.resume();
    this.upstream.resume();
  }

  destroy(): void {
    // A reset rather than a FIN: the client sees the connection fail, not end politely.
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.upstream.destroyed) this.upstream.resetAndDestroy();
  }

  private forward(from: Socket, to: Socket, held: Buffer[], direction: Direction): void {
    const isStalled = () => {
      const stalled = this.stalled();
      return stalled === 'both' || stalled === direction;
    };
    from.on('data', (chunk: Buffer) => {
      // `pause()` stops further reads, but a chunk already on its way is kept for the heal.
      if (isStalled()) {
        held.push(chunk);
        from.pause();
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => {
          if (!isStalled()) from.resume();
        });
      }
    });
  }

  private flush(to: Socket, held: Buffer[]): void {
    for (const chunk of held.splice(0)) if (!to.destroyed) to.write(chunk);
  }
}

/** Starts a proxy on a free loopback port that forwards to `127.0.0.1:<targetPort>`. */
export async function startProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'open';
  let stalled: Direction = 'both';
  let accepted = 0;
  const pairs = new Set<Pair>();
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    accepted++;
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    const pair = new Pair(client, upstream, () => (mode === 'stalled' ? stalled : undefined));
    pairs.add(pair);
    // Either side ending ends the other; either side failing resets both.
    const link = (from: Socket, to: Socket) => {
      from.on('error', () => {
        pairs.delete(pair);
        pair.destroy();
      });
      from.on('close', () => {
        pairs.delete(pair);
        if (!to.destroyed) to.end(() => to.destroy());
      });
    };
    link(client, upstream);
    link(upstream, client);
    if (mode === 'stalled') pair.stall(stalled);
    if (mode !== 'stalled' || stalled === 'to-client') client.resume();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the proxy has no address');
  const port = address.port;

  const dropAll = () => {
    for (const pair of pairs) pair.destroy();
    pairs.clear();
  };

  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get mode() {
      return mode;
    },
    cut() {
      mode = 'cut';
      dropAll();
    },
    stall(direction: Direction = 'both') {
      mode = 'stalled';
      stalled = direction;
      for (const pair of pairs) pair.stall(direction);
    },
    heal() {
      const wasStalled = mode === 'stalled';
      mode = 'open';
      if (wasStalled) for (const pair of pairs) pair.heal();
    },
    close() {
      mode = 'cut';
      dropAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
