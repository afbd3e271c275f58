import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isoTime, systemClock } from '../../../src/clock.js';
import {
  alertmanagerSink,
  type AlertmanagerSink,
} from '../../../src/exporter/alertmanager/index.js';
import { silentLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/poll.js';
import { sampleAlert, sampleNotification } from '../webhook/receiver.js';
import { AlertmanagerServer } from './alertmanager.js';
import { ManualClock } from './manual-clock.js';

let am: AlertmanagerServer;

beforeAll(async () => {
  am = await AlertmanagerServer.start();
});

afterAll(async () => {
  await am?.stop();
});

const MINUTE = 60_000;

describe('alertmanager sink against a real Alertmanager', () => {
  it('shows an open alert as active and a resolved one as gone', async () => {
    const sink = alertmanagerSink({ url: am.url }, { log: silentLogger(), clock: systemClock });
    const opened = isoTime(Date.now() - MINUTE);
    const alert = sampleAlert(opened, 'node-down-n1-real');

    await sink.send(sampleNotification('open', opened, alert));

    const [active] = await waitFor(async () => {
      const found = await am.alerts('alert="node-down-n1-real"');
      return found.length > 0 && found;
    });
    expect(active.labels).toEqual({
      alertname: 'node-down',
      severity: 'critical',
      tenant: 'default',
      kind: 'Node',
      object: 'n1',
      alert: 'node-down-n1-real',
    });
    expect(active.annotations).toMatchObject({ summary: 'node n1 is down', state: 'open' });
    expect(active.status.state).toBe('active');
    expect(Date.parse(active.startsAt)).toBe(Date.parse(opened));
    expect(Date.parse(active.endsAt)).toBeGreaterThan(Date.now() + MINUTE);

    await sink.send(sampleNotification('acknowledged', isoTime(Date.now()), alert));
    const [acknowledged] = await am.alerts('alert="node-down-n1-real"');
    expect(acknowledged.annotations.state).toBe('acknowledged');
    expect(acknowledged.status.state).toBe('active');

    await sink.send(sampleNotification('resolved', isoTime(Date.now()), alert));
    const after = await am.alerts('alert="node-down-n1-real"');
    // Alertmanager lists active alerts only: a resolved one (endsAt passed) is left out.
    expect(after).toHaveLength(0);
    await sink.close();
  });

  it('ends a deleted alert', async () => {
    const sink = alertmanagerSink({ url: am.url }, { log: silentLogger(), clock: systemClock });
    const opened = isoTime(Date.now() - MINUTE);
    const alert = sampleAlert(opened, 'node-down-n1-deleted');

    await sink.send(sampleNotification('open', opened, alert));
    expect(await am.alerts('alert="node-down-n1-deleted"')).toHaveLength(1);
    await sink.send(sampleNotification('deleted', isoTime(Date.now()), alert));

    expect(await am.alerts('alert="node-down-n1-deleted"')).toHaveLength(0);
    await sink.close();
  });

  it('re-posts a firing alert on the timer, pushing its end out', async () => {
    const clock = new ManualClock(Date.now());
    const sink = alertmanagerSink({ url: am.url }, { log: silentLogger(), clock });
    const alert = sampleAlert(isoTime(clock.now()), 'node-down-n1-repost');
    await sink.send(sampleNotification('open', isoTime(clock.now()), alert));
    const [first] = await am.alerts('alert="node-down-n1-repost"');

    clock.advance(MINUTE);
    const [second] = await waitFor(async () => {
      const found = await am.alerts('alert="node-down-n1-repost"');
      return found[0]?.updatedAt !== first.updatedAt && found;
    });

    expect(Date.parse(second.endsAt) - Date.parse(first.endsAt)).toBe(MINUTE);
    expect(second.startsAt).toBe(first.startsAt);
    await sink.close();
  });

  it('takes over the active alerts of its destination after a restart, keeping them firing', async () => {
    const clock = new ManualClock(Date.now());
    const context = { log: silentLogger(), clock, destination: 'default/am' };
    const before = alertmanagerSink({ url: am.url }, context);
    const alert = sampleAlert(isoTime(clock.now()), 'node-down-n1-adopted');
    await before.send(sampleNotification('open', isoTime(clock.now()), alert));
    // Another destination's alert on the same Alertmanager is not taken over.
    const other = alertmanagerSink({ url: am.url }, { ...context, destination: 'lab/am' });
    await other.send(
      sampleNotification('open', isoTime(clock.now()), sampleAlert(isoTime(clock.now()), 'x-lab')),
    );
    await before.close();
    await other.close();
    const [first] = await am.alerts('alert="node-down-n1-adopted"');
    expect(first.annotations.alertmgr_destination).toBe('default/am');

    // A new sink for the same destination, as after a restart: nothing is sent to it.
    const after = alertmanagerSink({ url: am.url }, context) as AlertmanagerSink;
    await waitFor(() => after.firingCount === 1, { what: 'the alert taken over' });
    clock.advance(MINUTE);
    const [second] = await waitFor(async () => {
      const found = await am.alerts('alert="node-down-n1-adopted"');
      return found[0]?.updatedAt !== first.updatedAt && found;
    });
    expect(Date.parse(second.endsAt)).toBeGreaterThan(Date.parse(first.endsAt));
    expect(second.status.state).toBe('active');
    await after.close();
  });
});
