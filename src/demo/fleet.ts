import { isoTime } from '../clock.js';
import { formatKey, POLICY_KIND, type AlertPolicySpec } from '../model/index.js';
import { createRandom, type Random } from './random.js';

/**
 * The demo's sample data: a fleet of managed objects (service cards and nodes in two tenants)
 * and the policies that watch them. Everything is a pure function of the seed and the start
 * time, so a run can be repeated.
 */

export const CARD_KIND = 'DistributedServiceCard';
export const NODE_KIND = 'Node';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  lastTransitionTime?: string;
}

interface Meta {
  name: string;
  tenant: string;
  uuid: string;
  labels: Record<string, string>;
  creationTime: string;
  modTime: string;
}

export interface CardObject {
  kind: typeof CARD_KIND;
  meta: Meta;
  spec: {
    serialNumber: string;
    firmware: { version: string; bootImage: string };
    ports: Array<{ name: string; speedGbps: number; adminState: 'up' | 'down' }>;
  };
  status: {
    health: 'up' | 'down';
    /** `healthy` and `linkUp`, with status "true" or "false". */
    conditions: Condition[];
    cpuPercent: number;
    lastSeen: string;
  };
}

export interface NodeObject {
  kind: typeof NODE_KIND;
  meta: Meta;
  spec: { cpuCores: number; memoryGiB: number; kernelVersion: string };
  status: {
    /** Kubernetes-style: `Ready`, `MemoryPressure`, `DiskPressure`, status "True"/"False". */
    conditions: Condition[];
    cpuPercent: number;
    memoryPercent: number;
  };
}

export type ManagedObject = CardObject | NodeObject;

export interface PolicyObject {
  kind: typeof POLICY_KIND;
  meta: Omit<Meta, 'labels'>;
  spec: AlertPolicySpec;
}

export interface Fleet {
  readonly objects: ManagedObject[];
  readonly policies: PolicyObject[];
}

/** Sample objects per tenant; 24 cards and 16 nodes in all. */
const TENANTS = [
  { tenant: 'default', cards: 20, nodes: 13 },
  { tenant: 'lab', cards: 4, nodes: 3 },
] as const;

const APPS = ['edge-gateway', 'storage-fabric', 'core-switch'] as const;
const ZONES = ['us-west-1a', 'us-west-1b', 'us-west-1c'] as const;
const FIRMWARE = ['1.8.2', '1.8.3', '1.9.0'] as const;
const KERNELS = ['6.1.0-18-amd64', '6.6.13-amd64'] as const;

export function createFleet(seed: number, nowMs: number): Fleet {
  const random = createRandom(seed);
  const now = isoTime(nowMs);
  // Creation times lie in the past, so the sample objects look like a running installation.
  const created = isoTime(nowMs - 30 * 24 * 3_600_000);

  const objects: ManagedObject[] = [];
  for (const { tenant, cards, nodes } of TENANTS) {
    for (let i = 1; i <= cards; i++) objects.push(card(random, tenant, i, created, now));
    for (let i = 1; i <= nodes; i++) objects.push(node(random, tenant, i, created, now));
  }
  return { objects, policies: policies(random, created) };
}

/** The etcd key of a sample object or policy under `prefix`. */
export function keyOf(prefix: string, object: ManagedObject | PolicyObject): string {
  return formatKey(prefix, {
    kind: object.kind,
    tenant: object.meta.tenant,
    name: object.meta.name,
  });
}

function card(random: Random, tenant: string, index: number, created: string, now: string) {
  const name = tenant === 'default' ? `dsc-${pad(index)}` : `${tenant}-dsc-${pad(index)}`;
  const object: CardObject = {
    kind: CARD_KIND,
    meta: {
      ...meta(random, tenant, name, created, now),
      labels: {
        rack: `r${random.int(1, 6)}`,
        zone: random.pick(ZONES),
        'app.kubernetes.io/name': random.pick(APPS),
      },
    },
    spec: {
      serialNumber: `FLM${random.int(100_000, 999_999)}`,
      firmware: { version: random.pick(FIRMWARE), bootImage: 'mainfwa' },
      ports: [
        { name: 'uplink-0', speedGbps: 100, adminState: 'up' },
        { name: 'uplink-1', speedGbps: 100, adminState: 'up' },
        { name: 'mgmt-0', speedGbps: 1, adminState: 'up' },
      ],
    },
    status: {
      health: 'up',
      conditions: [
        { type: 'healthy', status: 'true' },
        { type: 'linkUp', status: 'true' },
      ],
      cpuPercent: random.int(8, 60),
      lastSeen: now,
    },
  };
  return object;
}

function node(random: Random, tenant: string, index: number, created: string, now: string) {
  const name = tenant === 'default' ? `node-${pad(index)}` : `${tenant}-node-${pad(index)}`;
  const object: NodeObject = {
    kind: NODE_KIND,
    meta: {
      ...meta(random, tenant, name, created, now),
      labels: {
        rack: `r${random.int(1, 6)}`,
        zone: random.pick(ZONES),
        'node-role.kubernetes.io/role': index <= 3 ? 'control-plane' : 'worker',
      },
    },
    spec: {
      cpuCores: random.pick([16, 32, 64]),
      memoryGiB: random.pick([64, 128, 256]),
      kernelVersion: random.pick(KERNELS),
    },
    status: {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: created },
        { type: 'MemoryPressure', status: 'False', lastTransitionTime: created },
        { type: 'DiskPressure', status: 'False', lastTransitionTime: created },
      ],
      cpuPercent: random.int(5, 55),
      memoryPercent: random.int(20, 70),
    },
  };
  return object;
}

function policies(random: Random, created: string): PolicyObject[] {
  const policy = (tenant: string, name: string, spec: AlertPolicySpec): PolicyObject => ({
    kind: POLICY_KIND,
    meta: { name, tenant, uuid: uuid(random), creationTime: created, modTime: created },
    spec: { enable: true, ...spec },
  });

  return [
    policy('default', 'card-down', {
      resource: CARD_KIND,
      severity: 'critical',
      message: 'DSC is down',
      requirements: [{ key: 'status.health', operator: 'equals', values: ['down'] }],
      persistenceDuration: '0s',
      clearDuration: '3s',
    }),
    policy('default', 'node-not-ready', {
      resource: NODE_KIND,
      severity: 'warn',
      message: 'node is not Ready',
      requirements: [
        { key: 'status.conditions[type=Ready].status', operator: 'notEquals', values: ['True'] },
      ],
      persistenceDuration: '2s',
    }),
    policy('default', 'card-cpu-high', {
      resource: CARD_KIND,
      severity: 'warn',
      message: 'DSC CPU above 90%',
      requirements: [{ key: 'status.cpuPercent', operator: 'gt', values: ['90'] }],
      persistenceDuration: '0s',
    }),
    policy('default', 'edge-link-down', {
      resource: CARD_KIND,
      severity: 'critical',
      message: 'edge gateway lost its uplink',
      requirements: [
        { key: 'meta.labels["app.kubernetes.io/name"]', operator: 'equals', values: [APPS[0]] },
        { key: 'status.conditions[type=linkUp].status', operator: 'equals', values: ['false'] },
      ],
      persistenceDuration: '1s',
    }),
    policy('lab', 'lab-card-down', {
      resource: CARD_KIND,
      severity: 'info',
      message: 'lab DSC is down',
      requirements: [{ key: 'status.health', operator: 'in', values: ['down'] }],
      persistenceDuration: '0s',
      clearDuration: '3s',
    }),
  ];
}

function meta(random: Random, tenant: string, name: string, created: string, now: string) {
  return { name, tenant, uuid: uuid(random), creationTime: created, modTime: now };
}

/** A version 4 UUID made from the seeded source, so uuids too are the same on every run. */
function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => random.int(0, 15).toString(16));
  hex[12] = '4';
  hex[16] = (8 + random.int(0, 3)).toString(16);
  const text = hex.join('');
  return [0, 8, 12, 16, 20, 32]
    .slice(1)
    .map((end, i) => text.slice([0, 8, 12, 16, 20][i], end))
    .join('-');
}

function pad(index: number): string {
  return String(index).padStart(2, '0');
}
