import { connect, createServer, type Server, type Socket } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { waitFor } from './poll.js';
import { startProxy, type TcpProxy } from './proxy.js';

/** The proxy the fault tests rely on, in front of a loopback echo server. */

/** A client connection that records what it receives and how it ended. */
class Client {
  received = '';
  closed = false;
  error: NodeJS.ErrnoException | undefined;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk: Buffer) => (this.received += chunk.toString()));
    this.socket.on('error', (err) => (this.error = err));
    this.socket.on('close', () => (this.closed = true));
  }

  send(text: string): void {
    this.socket.write(text);
  }
}

let echo: Server;
let echoPort: number;
let proxy: TcpProxy;
const serverSide = new Set<Socket>();
/** Everything the echo server has read, over all connections. */
let serverReceived = '';
const clients: Client[] = [];

function client(): Client {
  const c = new Client(proxy.port);
  clients.push(c);
  return c;
}

/** Proves that `c` receives nothing and stays open for `ms` (the claim is that nothing moves). */
async function quietFor(c: Client, ms: number): Promise<void> {
  const before = c.received;
  await new Promise((resolve) => setTimeout(resolve, ms));
  expect(c.received).toBe(before);
  expect(c.closed).toBe(false);
}

beforeEach(async () => {
  echo = createServer((socket) => {
    serverSide.add(socket);
    socket.on('close', () => serverSide.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (serverReceived += chunk.toString()));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  echoPort = (echo.address() as { port: number }).port;
  proxy = await startProxy(echoPort);
  serverReceived = '';
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await proxy.close();
  for (const socket of serverSide) socket.destroy();
  await new Promise((resolve) => echo.close(resolve));
});

describe('TCP proxy', () => {
  it('forwards bytes both ways on 127.0.0.1', async () => {
    expect(proxy.endpoint).toBe(`http://127.0.0.1:${proxy.port}`);
    const c = client();
    c.send('hello');
    await waitFor(() => c.received === 'hello', { timeoutMs: 2_000, what: 'the echo' });
    expect(proxy.connections).toBe(1);
    expect(serverSide.size).toBe(1);
  });

  it('cut resets open connections and refuses new ones until heal', async () => {
    const c = client();
    c.send('a');
    await waitFor(() => c.received === 'a', { timeoutMs: 2_000, what: 'the echo' });

    proxy.cut();
    await waitFor(() => c.closed, { timeoutMs: 2_000, what: 'the cut connection to close' });
    expect(c.error?.code).toBe('ECONNRESET');
    await waitFor(() => serverSide.size === 0, { timeoutMs: 2_000, what: 'the server side' });

    const refused = client();
    refused.send('b');
    await waitFor(() => refused.closed, { timeoutMs: 2_000, what: 'the new connection reset' });
    expect(refused.received).toBe('');
    expect(serverSide.size).toBe(0);

    proxy.heal();
    const after = client();
    after.send('c');
    await waitFor(() => after.received === 'c', { timeoutMs: 2_000, what: 'the echo after heal' });
  });

  it('stall holds bytes both ways on open connections and delivers them on heal', async () => {
    const c = client();
    c.send('1');
    await waitFor(() => c.received === '1', { timeoutMs: 2_000, what: 'the echo' });

    proxy.stall();
    c.send('2');
    const late = client();
    late.send('x');
    await quietFor(c, 400);
    expect(late.received).toBe('');
    expect(late.closed).toBe(false);
    expect(serverReceived).toBe('1');

    proxy.heal();
    await waitFor(() => c.received === '12', { timeoutMs: 2_000, what: 'the held echo' });
    await waitFor(() => late.received === 'x', { timeoutMs: 2_000, what: 'the late echo' });
  });

  it('stall also holds what the server sends on its own', async () => {
    const c = client();
    c.send('1');
    await waitFor(() => serverSide.size === 1 && c.received === '1', { timeoutMs: 2_000 });

    proxy.stall();
    for (const socket of serverSide) socket.write('push');
    await quietFor(c, 400);

    proxy.heal();
    await waitFor(() => c.received === '1push', { timeoutMs: 2_000, what: 'the pushed bytes' });
  });

  it("stall('to-client') lets requests through and holds only the replies", async () => {
    const c = client();
    c.send('1');
    await waitFor(() => c.received === '1', { timeoutMs: 2_000, what: 'the echo' });

    proxy.stall('to-client');
    c.send('2');
    const late = client();
    late.send('x');
    await waitFor(() => serverReceived === '12x' || serverReceived === '1x2', {
      timeoutMs: 2_000,
      what: 'the requests to reach the server',
    });
    await quietFor(c, 400);
    expect(late.received).toBe('');

    proxy.heal();
    await waitFor(() => c.received === '12', { timeoutMs: 2_000, what: 'the held reply' });
    await waitFor(() => late.received === 'x', { timeoutMs: 2_000, what: 'the late reply' });
  });

  it('closes the client side when the server closes a connection', async () => {
    const c = client();
    c.send('a');
    await waitFor(() => c.received === 'a', { timeoutMs: 2_000, what: 'the echo' });
    for (const socket of serverSide) socket.destroy();
    await waitFor(() => c.closed, { timeoutMs: 2_000, what: 'the client side to close' });
    await waitFor(() => proxy.connections === 0, { timeoutMs: 2_000, what: 'the pair dropped' });
  });

  it('close drops every connection and stops listening', async () => {
    const c = client();
    c.send('a');
    await waitFor(() => c.received === 'a', { timeoutMs: 2_000, what: 'the echo' });

    await proxy.close();
    await waitFor(() => c.closed, { timeoutMs: 2_000, what: 'the connection to close' });
    const refused = client();
    await waitFor(() => refused.closed, { timeoutMs: 2_000, what: 'the refusal' });
    expect(refused.error?.code).toBe('ECONNREFUSED');
  });
});
