import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

import { waitFor } from '../../helpers/poll.js';
import { freePort } from '../../helpers/ports.js';

/** What rsyslog parsed out of one message, as the test's template writes it. */
export interface ParsedMessage {
  pri: string;
  version: string;
  time: string;
  hostname: string;
  appName: string;
  procid: string;
  msgid: string;
  tag: string;
  structuredData: string;
  /** The structured data as mmpstrucdata parsed it, or undefined when there was none. */
  sd: Record<string, Record<string, string>> | undefined;
  msg: string;
  raw: string;
  input: string;
}

// One property per line of output; `sd` is mmpstrucdata's parse, so SD-PARAM escaping is
// checked by rsyslog's own parser rather than by a regular expression in the test.
const TEMPLATE_FIELDS: Array<[string, string]> = [
  ['pri', 'pri'],
  ['version', 'protocol-version'],
  ['hostname', 'hostname'],
  ['appName', 'app-name'],
  ['procid', 'procid'],
  ['msgid', 'msgid'],
  ['tag', 'syslogtag'],
  ['structuredData', 'structured-data'],
  ['sd', '$!rfc5424-sd'],
  ['msg', 'msg'],
  ['raw', 'rawmsg'],
  ['input', 'inputname'],
];

/**
 * A private rsyslogd on loopback: its own config, work directory, pid file and output file
 * in a temporary directory, listening with imudp and imtcp on free ports. The system's
 * rsyslog, if any, is neither read nor touched.
 */
export class Rsyslog {
  private stderr = '';

  private constructor(
    readonly dir: string,
    readonly udpPort: number,
    readonly tcpPort: number,
    private readonly child: ChildProcess,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
  }

  static async start(): Promise<Rsyslog> {
    const binary = findRsyslogd();
    const dir = await mkdtemp(join(tmpdir(), 'alertmgr-rsyslog-'));
    const udpPort = await freeUdpPort();
    const tcpPort = await freePort();
    const conf = join(dir, 'rsyslog.conf');
    await writeFile(conf, config(dir, udpPort, tcpPort));

    const child = spawn(binary, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rsyslog = new Rsyslog(dir, udpPort, tcpPort, child);
    await rsyslog.waitReady();
    return rsyslog;
  }

  /** Every message rsyslog has written so far. */
  async messages(): Promise<ParsedMessage[]> {
    const text = await readFile(join(this.dir, 'out.jsonl'), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        const record = JSON.parse(line);
        return { ...record, sd: record.sd === '' ? undefined : JSON.parse(record.sd) };
      });
  }

  /** Waits for the first message `match` accepts. */
  async find(match: (message: ParsedMessage) => boolean, what: string): Promise<ParsedMessage> {
    return waitFor(async () => (await this.messages()).find(match), {
      timeoutMs: 10_000,
      what: `rsyslog to write ${what}${this.diagnostics()}`,
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Probes both inputs until rsyslog has written a probe from each. */
  private async waitReady(): Promise<void> {
    const probe = (input: string) =>
      Buffer.from(`<14>1 2026-01-01T00:00:00Z probe probe - probe - ready ${input}`);
    await waitFor(
      async () => {
        if (this.child.exitCode !== null) {
          throw new Error(`rsyslogd exited with code ${this.child.exitCode}`);
        }
        await sendUdp(this.udpPort, probe('udp')).catch(() => {});
        await sendTcp(this.tcpPort, probe('tcp')).catch(() => {});
        const seen = (await this.messages()).filter((m) => m.msgid === 'probe');
        return seen.some((m) => m.input === 'imudp') && seen.some((m) => m.input === 'imtcp');
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `rsyslogd to start${this.diagnostics()}` },
    );
  }

  private diagnostics(): string {
    return this.stderr.trim() === '' ? '' : ` (rsyslogd said: ${this.stderr.trim()})`;
  }
}

function findRsyslogd(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  const found = dirs.map((dir) => join(dir, 'rsyslogd')).find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      'rsyslogd not found on PATH, in /usr/sbin or /sbin: the syslog tests need a real ' +
        'rsyslog; install it with `apt-get install rsyslog`',
    );
  }
  return found;
}

function config(dir: string, udpPort: number, tcpPort: number): string {
  const properties = TEMPLATE_FIELDS.map(
    ([out, name]) => `  property(outname="${out}" name="${name}" format="jsonf")`,
  );
  return [
    `global(workDirectory="${dir}")`,
    'module(load="imudp")',
    'module(load="imtcp")',
    'module(load="mmpstrucdata")',
    'template(name="fields" type="list" option.jsonf="on") {',
    ...properties,
    '  property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf")',
    '}',
    'ruleset(name="alertmgr") {',
    // SD names are case-sensitive (RFC 5424); mmpstrucdata lower-cases them unless told not to.
    '  action(type="mmpstrucdata" sd_name.lowercase="off")',
    `  action(type="omfile" file="${join(dir, 'out.jsonl')}" template="fields")`,
    '}',
    `input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="alertmgr")`,
    `input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="alertmgr")`,
    '',
  ].join('\n');
}

function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

function sendUdp(port: number, message: Buffer): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise<void>((resolve, reject) => {
    socket.send(message, port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
  }).finally(() => socket.close());
}

function sendTcp(port: number, message: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end(Buffer.concat([Buffer.from(`${message.length} `), message]), () => resolve());
    });
    socket.on('error', reject);
  });
}
