import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createLogger } from '../src/log.js';

class Lines extends Writable {
  text = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('logger', () => {
  it('writes JSON lines with redacted secrets', () => {
    const out = new Lines();
    createLogger({ destination: out }).info(
      { alert: 'a-1', webhook: { headers: { Authorization: 'Bearer s3cret' } } },
      'alert open',
    );
    const line = JSON.parse(out.text) as Record<string, any>;
    expect(line).toMatchObject({ level: 'info', msg: 'alert open', alert: 'a-1' });
    expect(out.text).not.toContain('s3cret');
  });

  it('writes one readable line per record for a terminal, still redacted', () => {
    const out = new Lines();
    const log = createLogger({ destination: out, pretty: true });
    log.info({ alert: 'a-1', webhook: { headers: { Authorization: 'Bearer s3cret' } } }, 'open');
    log.warn({ attempt: 2 }, 'watch broke');
    const lines = out.text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}open alert=a-1 webhook=\{"headers"/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d WARN {2}watch broke attempt=2$/);
    expect(out.text).not.toContain('s3cret');
  });
});
