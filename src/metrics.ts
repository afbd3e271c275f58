import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the daemon exports, in one place so names stay consistent. Each daemon has its
 * own registry (tests run several in one process). Series with labels known up front are
 * created at zero so dashboards see them before the first event.
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  /** Read when /metrics is scraped; the live generation of stages points them at itself. */
  const probes = {
    backlog: () => 0,
    lastSnapshotAt: () => 0,
    queues: (): Array<[destination: string, queued: number]> => [],
  };
  const m = {
    registry,
    probes,
    backlog: new Gauge({
      name: 'alertmgr_backlog',
      help: 'Work handed between stages and not done yet: messages, dirty objects, alert writes',
      registers: [registry],
      collect() {
        this.set(probes.backlog());
      },
    }),
    destinationQueue: new Gauge({
      name: 'alertmgr_destination_queue',
      help: 'Notifications waiting in a destination (all its exports together)',
      labelNames: ['destination'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [destination, queued] of probes.queues()) this.set({ destination }, queued);
      },
    }),
    snapshotAge: new Gauge({
      name: 'alertmgr_snapshot_age_seconds',
      help: 'Seconds since the last stage snapshot was saved to etcd; -1 before the first',
      registers: [registry],
      collect() {
        const at = probes.lastSnapshotAt();
        this.set(at === 0 ? -1 : (Date.now() - at) / 1000);
      },
    }),
    eventsReceived: new Counter({
      name: 'alertmgr_watch_events_total',
      help: 'Watch events received from etcd, by kind class (object, policy, destination, alert)',
      labelNames: ['class'] as const,
      registers: [registry],
    }),
    rejectedObjects: new Counter({
      name: 'alertmgr_rejected_objects_total',
      help: 'Keys skipped because their value is invalid JSON or disagrees with the key',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    invalidPolicies: new Gauge({
      name: 'alertmgr_invalid_policies',
      help: 'Policies that failed validation and produce no alerts',
      registers: [registry],
    }),
    evaluations: new Counter({
      name: 'alertmgr_evaluations_total',
      help: 'Policy evaluations of one managed object',
      registers: [registry],
    }),
    evaluationSeconds: new Histogram({
      name: 'alertmgr_evaluation_batch_seconds',
      help: 'Time to evaluate one batch of objects against one policy',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
    alertTransitions: new Counter({
      name: 'alertmgr_alert_transitions_total',
      help: 'Alert state changes written or observed, by event',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    alerts: new Gauge({
      name: 'alertmgr_alerts',
      help: 'Alerts known to the daemon, by state and severity',
      labelNames: ['state', 'severity'] as const,
      registers: [registry],
    }),
    alertWrites: new Counter({
      name: 'alertmgr_alert_writes_total',
      help: 'Alert writes, by result (ok, conflict, error)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'alertmgr_write_batch_size',
      help: 'Writes per etcd transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    notifications: new Counter({
      name: 'alertmgr_notifications_total',
      help: 'Notifications per destination, by result (sent, failed, dropped)',
      labelNames: ['destination', 'result'] as const,
      registers: [registry],
    }),
    stageRestarts: new Counter({
      name: 'alertmgr_stage_restarts_total',
      help: 'Restarts of all stages by the root supervisor',
      registers: [registry],
    }),
    watchRestarts: new Counter({
      name: 'alertmgr_watch_restarts_total',
      help: 'Times the etcd watch was re-established, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    snapshots: new Counter({
      name: 'alertmgr_snapshots_total',
      help: 'Stage snapshots by result (saved, failed, loaded, dropped)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    watchPauses: new Counter({
      name: 'alertmgr_watch_pauses_total',
      help: 'Times the watcher stopped reading etcd because downstream work piled up',
      registers: [registry],
    }),
    ready: new Gauge({
      name: 'alertmgr_ready',
      help: '1 once the initial list is loaded and the watch is running',
      registers: [registry],
    }),
  };
  for (const state of ['open', 'acknowledged', 'resolved']) {
    for (const severity of ['info', 'warn', 'critical']) m.alerts.set({ state, severity }, 0);
  }
  for (const event of ['open', 'reopen', 'acknowledged', 'resolved', 'deleted']) {
    m.alertTransitions.inc({ event }, 0);
  }
  for (const result of ['ok', 'conflict', 'error']) m.alertWrites.inc({ result }, 0);
  for (const reason of ['json', 'key', 'mismatch']) m.rejectedObjects.inc({ reason }, 0);
  for (const result of ['saved', 'failed', 'loaded', 'dropped']) m.snapshots.inc({ result }, 0);
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
