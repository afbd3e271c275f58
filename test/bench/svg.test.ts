import { describe, expect, it } from 'vitest';

import { logHistogram } from '../../bench/stats.js';
import { escapeXml, histogramChart, lineChart, niceTicks, shortNumber } from '../../bench/svg.js';

/**
 * A strict little well-formedness check, enough for what the charts contain: one XML
 * declaration, then elements with double-quoted attributes, properly nested, one root, and
 * text without a raw `<` or an `&` that does not start an entity.
 */
function assertWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  expect(body.startsWith('<svg ')).toBe(true);
  const entity = /&(?:amp|lt|gt|quot|apos);/g;
  const stack: string[] = [];
  let roots = 0;
  let rest = body;
  while (rest.length > 0) {
    const lt = rest.indexOf('<');
    const text = lt < 0 ? rest : rest.slice(0, lt);
    expect(text.replace(entity, '')).not.toMatch(/[&<>]/);
    if (stack.length === 0) expect(text.trim()).toBe('');
    if (lt < 0) break;
    const gt = rest.indexOf('>', lt);
    expect(gt).toBeGreaterThan(lt);
    const tag = rest.slice(lt, gt + 1);
    rest = rest.slice(gt + 1);
    const close = /^<\/([a-zA-Z][\w:-]*)>$/.exec(tag);
    if (close) {
      expect(stack.pop()).toBe(close[1]);
      continue;
    }
    const open = /^<([a-zA-Z][\w:-]*)((?:\s+[a-zA-Z][\w:-]*="[^"<>]*")*)\s*(\/?)>$/.exec(tag);
    if (!open) throw new Error(`malformed tag: ${tag}`);
    for (const [, value] of open[2]!.matchAll(/="([^"]*)"/g)) {
      expect(value!.replace(entity, '')).not.toContain('&');
    }
    if (stack.length === 0) roots++;
    if (open[3] !== '/') stack.push(open[1]!);
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe('escapeXml', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
  });
});

describe('lineChart', () => {
  it('is well-formed, escapes its texts and draws one path per series', () => {
    const svg = lineChart({
      title: 'p99 < 50 ms & "fast"',
      xLabel: 'seconds',
      yLabel: 'per <second>',
      series: [
        {
          name: 'writes',
          points: [
            [1, 100],
            [2, 250],
            [3, 180],
          ],
        },
        {
          name: "alerts 'seen'",
          points: [
            [1, 90],
            [2, 240],
          ],
        },
      ],
    });
    assertWellFormed(svg);
    expect(svg).toContain('p99 &lt; 50 ms &amp; &quot;fast&quot;');
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('stays well-formed with no points at all', () => {
    const svg = lineChart({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: 'a', points: [] }],
    });
    assertWellFormed(svg);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });
});

describe('histogramChart', () => {
  it('is well-formed, with one bar per non-empty bin and a line per marker', () => {
    const values = [1.2, 3.4, 3.5, 8, 12, 40, 41, 260];
    const bins = logHistogram(values);
    const svg = histogramChart({
      title: 'latency',
      xLabel: 'ms',
      yLabel: 'changes',
      bins,
      markers: [
        { label: 'p50', value: 8 },
        { label: 'p99', value: 260 },
      ],
    });
    assertWellFormed(svg);
    const nonEmpty = bins.filter((b) => b.count > 0).length;
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(nonEmpty);
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('stays well-formed without data', () => {
    const svg = histogramChart({ title: 'empty', xLabel: 'ms', yLabel: 'n', bins: [] });
    assertWellFormed(svg);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });
});

describe('niceTicks and shortNumber', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    const ticks = niceTicks(0, 1234, 5);
    expect(ticks[0]).toBe(0);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(1234);
    expect(new Set(ticks.slice(1).map((t, i) => t - ticks[i]!)).size).toBe(1);
    expect(niceTicks(5, 5)).toEqual(expect.arrayContaining([5]));
  });

  it('shortens large numbers', () => {
    expect(shortNumber(1500)).toBe('1.5k');
    expect(shortNumber(2_000_000)).toBe('2M');
    expect(shortNumber(0.25)).toBe('0.25');
  });
});
