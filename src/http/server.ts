import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Registry } from 'prom-client';

import type { Logger } from '../log.js';

export interface HttpServerOptions {
  readonly host: string;
  /** 0 lets the kernel pick a free port; the result says which. */
  readonly port: number;
  readonly registry: Registry;
  /** Whether the daemon has loaded the initial list and its watch is running. */
  readonly isReady: () => boolean;
  readonly log: Logger;
}

export interface HttpServer {
  /** The port actually listened on. */
  readonly port: number;
  /** Stops listening and drops open connections, keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * The operator's window on a running daemon: `/healthz` (200 while the process runs),
 * `/readyz` (200 once ready, 503 before) and `/metrics` in Prometheus text format.
 * Anything else is 404; methods other than GET and HEAD are 405.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((err: unknown) => {
      options.log.warn({ err, path: request.url }, 'http request failed');
      if (!response.headersSent) send(response, 500, 'internal error');
      else response.destroy();
    });
  });
  // Probes and scrapes are short; a stuck client must not hold a socket open for minutes.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  options.log.info({ address: `${options.host}:${port}` }, 'http server listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(
  options: HttpServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    send(response, 405, 'method not allowed');
    return;
  }

  const path = (request.url ?? '/').split('?', 1)[0];
  switch (path) {
    case '/healthz':
      send(response, 200, 'ok');
      return;
    case '/readyz':
      if (options.isReady()) send(response, 200, 'ready');
      else send(response, 503, 'not ready');
      return;
    case '/metrics': {
      const text = await options.registry.metrics();
      send(response, 200, text, options.registry.contentType);
      return;
    }
    default:
      send(response, 404, 'not found');
  }
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(body);
}
