import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { waitFor } from '../helpers/poll.js';
import { alertmgr, buildOnce, exitWithin, killAll } from './child.js';
import { oneLineError } from './fixtures.js';

/*
 * `alertmgr demo` as a real process: no etcd, sample objects, faults injected, one line per
 * alert state change. The tests run concurrently; the long one takes its 15 s anyway.
 */

beforeAll(async () => {
  await buildOnce();
}, 120_000);

afterAll(async () => {
  await killAll();
});

/** `15:17:20 OPEN         warn     default/node-not-ready Node/default/node-06   node is not Ready` */
const EVENT_LINE =
  /^(\d\d):(\d\d):(\d\d) +(OPEN|REOPEN|ACKNOWLEDGED|RESOLVED|DELETED) +(info|warn|critical) +([^/\s]+\/[^/\s]+) +([^/\s]+\/[^/\s]+\/[^/\s]+) +(\S.*)$/;

const DAY_S = 24 * 60 * 60;

/** Seconds since midnight UTC: the demo prints the notification's RFC 3339 time of day. */
function secondOfDay(ms: number): number {
  return Math.floor(ms / 1000) % DAY_S;
}

describe.concurrent('alertmgr demo', () => {
  it('--for 15s --seed 7: prints alerts opening and resolving, then exits 0', async () => {
    const spawned = Date.now();
    const proc = alertmgr(['demo', '--for', '15s', '--seed', '7']);
    const exit = await exitWithin(proc, 30_000);
    expect(exit, proc.stderr()).toMatchObject({ code: 0, signal: null });
    // It runs for the time asked, not much less and not much more.
    expect(exit.at - spawned).toBeGreaterThanOrEqual(14_000);
    expect(exit.at - spawned).toBeLessThan(25_000);

    const lines = proc
      .stdout()
      .split('\n')
      .filter((line) => line.trim() !== '');
    expect(lines[0]).toMatch(/^alertmgr demo: /);
    const events = lines.slice(1).map((line) => {
      const match = EVENT_LINE.exec(line);
      expect(match, `not an event line: ${JSON.stringify(line)}`).not.toBeNull();
      const [, hh, mm, ss, state, severity, policy, object, message] = match!;
      return {
        time: Number(hh) * 3600 + Number(mm) * 60 + Number(ss),
        state,
        severity,
        policy,
        object,
        message,
      };
    });

    expect(events.some((event) => event.state === 'OPEN')).toBe(true);
    expect(events.some((event) => event.state === 'RESOLVED')).toBe(true);
    // Every event happened while the demo ran (time of day, UTC; a run may cross midnight).
    const from = secondOfDay(spawned) - 1;
    const span = Math.ceil((exit.at - spawned) / 1000) + 2;
    for (const event of events) {
      expect((event.time - from + DAY_S) % DAY_S <= span, JSON.stringify(event)).toBe(true);
      expect(event.message?.trim()).not.toBe('');
    }
    // A resolve is of an alert that opened during the run.
    for (const resolved of events.filter((event) => event.state === 'RESOLVED')) {
      const opened = events.find(
        (event) =>
          event.state === 'OPEN' &&
          event.policy === resolved.policy &&
          event.object === resolved.object,
      );
      expect(opened, JSON.stringify(resolved)).toBeDefined();
    }
  }, 45_000);

  it('stops on SIGINT with exit 0', async () => {
    const proc = alertmgr(['demo', '--seed', '3']);
    await waitFor(() => proc.stdout().startsWith('alertmgr demo: '), {
      timeoutMs: 15_000,
      what: 'the demo banner',
    });
    // Without --for it runs until Ctrl-C: for two seconds it must still be running.
    // This watches, it does not wait for anything.
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      const exited = await Promise.race([
        proc.exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 100)),
      ]);
      expect(exited, `demo ended on its own; stderr: ${proc.stderr()}`).toBeUndefined();
    }
    const sent = Date.now();
    proc.child.kill('SIGINT');
    const exit = await exitWithin(proc, 12_000);
    expect(exit, proc.stderr()).toMatchObject({ code: 0, signal: null });
    expect(exit.at - sent).toBeLessThan(10_000);
  });

  it.each([
    [['--for', '5x'], {}, '--for'],
    [['--for', '0s'], {}, '--for'],
    [['--seed', 'abc'], {}, '--seed'],
    [['--seed', '1.5'], {}, '--seed'],
    [[], { ALERTMGR_FOR: 'soon' }, 'ALERTMGR_FOR'],
    [[], { ALERTMGR_SEED: 'x' }, 'ALERTMGR_SEED'],
  ])('%j %j: exit 2 with one line on stderr naming %s', async (args, env, named) => {
    const proc = alertmgr(['demo', ...args], env);
    const exit = await exitWithin(proc, 10_000);
    expect(exit.code, proc.stdout()).toBe(2);
    expect(oneLineError(proc.stderr())).toContain(named);
    expect(proc.stdout()).toBe('');
  });
});
