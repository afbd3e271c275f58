import { systemClock, type Clock, type Timer } from '../clock.js';
import { DEFAULT_CONFIG, startDaemon } from '../daemon/index.js';
import type { Notification } from '../exporter/types.js';
import { createLogger } from '../log.js';
import { createMetrics } from '../metrics.js';
import { MemoryStore } from '../store/index.js';
import {
  CARD_KIND,
  createFleet,
  keyOf,
  type CardObject,
  type ManagedObject,
  type NodeObject,
} from './fleet.js';
import { createRandom, type Random } from './random.js';

export interface DemoOptions {
  /** Where alert state changes are printed, one readable line each. */
  readonly out: NodeJS.WritableStream;
  /** Where the daemon's own warnings go (JSON lines); nothing else is logged. */
  readonly err?: NodeJS.WritableStream;
  /** Stops the demo after this long; absent, it runs until `stop` (Ctrl-C). */
  readonly durationMs?: number;
  readonly seed?: number;
  readonly clock?: Clock;
  /** Resolves when the demo should stop, for example on SIGINT. */
  readonly stop?: Promise<unknown>;
}

const PREFIX = DEFAULT_CONFIG.prefix;
/** How often the fault injector acts: degrades one object, heals the ones due. */
const TICK_MS = 1_500;
/** A degraded object heals after between these many ticks. */
const HEAL_AFTER_TICKS = [3, 6] as const;
/** At most this many objects are degraded at once, so the output stays readable. */
const MAX_DEGRADED = 4;

type Fault = 'down' | 'cpu' | 'link' | 'notReady';

interface Degraded {
  readonly object: ManagedObject;
  readonly fault: Fault;
  healAtTick: number;
}

/**
 * The main job on the embedded in-memory store: the whole pipeline (watcher, policies,
 * alerts, exporter) runs exactly as `alertmgr run` does, on a sample fleet of service cards
 * and nodes. A fault injector degrades an object now and then and heals it a few seconds
 * later, so alerts open, resolve and reopen; every alert state change prints one line.
 * Returns the exit code.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const clock = options.clock ?? systemClock;
  const seed = options.seed ?? Math.floor(Date.now() % 1_000_000);
  const store = new MemoryStore();
  const fleet = createFleet(seed, clock.now());

  for (const object of [...fleet.objects, ...fleet.policies]) {
    await store.put(keyOf(PREFIX, object), JSON.stringify(object));
  }
  write(
    options.out,
    `alertmgr demo: ${fleet.objects.length} managed objects, ${fleet.policies.length} policies` +
      ` (${fleet.policies.map((p) => `${p.meta.tenant}/${p.meta.name}`).join(', ')}).` +
      ' Faults are injected every few seconds; press Ctrl-C to stop.',
  );

  const daemon = await startDaemon({
    config: { ...DEFAULT_CONFIG, store: 'memory' },
    store,
    clock,
    log: createLogger({ level: 'warn', destination: options.err ?? process.stderr }),
    metrics: createMetrics(),
    onNotification: (n) => write(options.out, describe(n)),
  });

  const injector = new FaultInjector(store, createRandom(seed), fleet.objects, clock);
  injector.start();
  // The daemon's timers do not hold the process open (a daemon ends when its work does);
  // the demo has no socket or file either, so this is what keeps it running until Ctrl-C.
  const keepAlive = setInterval(() => {}, 60_000);
  // A reader that goes away (`alertmgr demo | head`) ends the demo quietly.
  const closed = new Promise<number>((resolve) => options.out.once('error', () => resolve(0)));
  try {
    const ended = [daemon.done, closed, ...(options.stop ? [options.stop.then(() => 0)] : [])];
    if (options.durationMs !== undefined) {
      ended.push(new Promise((resolve) => setTimeout(() => resolve(0), options.durationMs)));
    }
    return await Promise.race(ended);
  } finally {
    clearInterval(keepAlive);
    injector.stop();
    await daemon.stop();
    await store.close();
  }
}

/**
 * One readable line per state change:
 *
 *     12:00:03 OPEN     critical default/card-down  DistributedServiceCard/default/dsc-07
 *       DSC is down          (one line: wrapped here to fit)
 */
export function describe(n: Notification): string {
  const time = n.time.slice(11, 19);
  const ref = n.alert.status.objectRef;
  return [
    time,
    n.event.toUpperCase().padEnd(12),
    n.alert.status.severity.padEnd(8),
    `${n.policy.tenant}/${n.policy.name}`.padEnd(22),
    `${ref.kind}/${ref.tenant}/${ref.name}`.padEnd(40),
    n.alert.status.message,
  ].join(' ');
}

function write(out: NodeJS.WritableStream, line: string): void {
  out.write(`${line}\n`);
}

/**
 * Changes sample objects in the store the way a real fleet misbehaves: a card goes down, its
 * CPU spikes or its uplink drops, a node stops being Ready; a few seconds later it recovers.
 */
class FaultInjector {
  private readonly degraded = new Map<string, Degraded>();
  private tick = 0;
  private timer: Timer | undefined;
  private stopped = false;

  constructor(
    private readonly store: MemoryStore,
    private readonly random: Random,
    private readonly objects: readonly ManagedObject[],
    private readonly clock: Clock,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimer(TICK_MS, () => {
      void this.step().finally(() => this.schedule());
    });
  }

  private async step(): Promise<void> {
    this.tick++;
    for (const [key, d] of this.degraded) {
      if (d.healAtTick > this.tick) continue;
      this.degraded.delete(key);
      // The fleet's own copy was never modified: writing it back is the recovery.
      await this.write(d.object, d.object);
    }
    if (this.degraded.size >= MAX_DEGRADED) return;

    const object = this.random.pick(this.objects);
    const key = keyOf(PREFIX, object);
    if (this.degraded.has(key)) return;
    const fault = this.pickFault(object);
    const [min, max] = HEAL_AFTER_TICKS;
    this.degraded.set(key, { object, fault, healAtTick: this.tick + this.random.int(min, max) });
    await this.write(object, degrade(object, fault));
  }

  private pickFault(object: ManagedObject): Fault {
    if (object.kind !== CARD_KIND) return 'notReady';
    const edge = object.meta.labels['app.kubernetes.io/name'] === 'edge-gateway';
    return this.random.pick<Fault>(edge ? ['down', 'cpu', 'link'] : ['down', 'down', 'cpu']);
  }

  private async write(object: ManagedObject, next: ManagedObject): Promise<void> {
    if (this.stopped) return;
    const stamped = {
      ...next,
      meta: { ...next.meta, modTime: new Date(this.clock.now()).toISOString() },
    };
    await this.store.put(keyOf(PREFIX, object), JSON.stringify(stamped));
  }
}

function degrade(object: ManagedObject, fault: Fault): ManagedObject {
  if (object.kind === CARD_KIND) {
    const status = { ...object.status };
    if (fault === 'down') status.health = 'down';
    if (fault === 'cpu') status.cpuPercent = 97;
    if (fault === 'link') status.conditions = setCondition(status.conditions, 'linkUp', 'false');
    return { ...object, status } satisfies CardObject;
  }
  const conditions = setCondition(object.status.conditions, 'Ready', 'False');
  return { ...object, status: { ...object.status, conditions } } satisfies NodeObject;
}

function setCondition<C extends { type: string; status: string }>(
  conditions: readonly C[],
  type: string,
  status: string,
): C[] {
  return conditions.map((c) => (c.type === type ? { ...c, status } : c));
}
