import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitFor } from '../../helpers/poll.js';
import { freePort } from '../../helpers/ports.js';

const BINARY = '/usr/bin/prometheus-alertmanager';

/** Every alert goes to a receiver with no integrations: the test reads the API, not mail. */
const CONFIG = `route:
  receiver: 'null'
receivers:
  - name: 'null'
`;

/**
 * A real Prometheus Alertmanager on a free loopback port, with its config and storage in a
 * temporary directory and clustering off, so it talks to nothing but the test.
 */
export class AlertmanagerServer {
  private output = '';

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
  }

  static async start(): Promise<AlertmanagerServer> {
    if (!existsSync(BINARY)) {
      throw new Error(
        `${BINARY} not found; these tests need a real Alertmanager: ` +
          'apt-get install prometheus-alertmanager',
      );
    }

    const dir = await mkdtemp(join(tmpdir(), 'alertmgr-am-'));
    const config = join(dir, 'alertmanager.yml');
    await writeFile(config, CONFIG, 'utf8');
    const port = await freePort();
    const child = spawn(
      BINARY,
      [
        `--config.file=${config}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new AlertmanagerServer(`http://127.0.0.1:${port}`, child, dir);

    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited: ${server.output}`);
          return (await fetch(`${server.url}/-/ready`)).ok;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'Alertmanager to be ready' },
      );
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** The alerts Alertmanager reports (active ones by default), filtered by a label matcher. */
  async alerts(matcher: string): Promise<any[]> {
    const response = await fetch(`${this.url}/api/v2/alerts?filter=${encodeURIComponent(matcher)}`);
    if (!response.ok) throw new Error(`GET /api/v2/alerts answered ${response.status}`);
    return (await response.json()) as any[];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
