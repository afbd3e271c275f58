import { createHash } from 'node:crypto';

import { Packr } from 'msgpackr';

import { SnapshotError } from '../errors.js';

/**
 * Bumped whenever the shape of any stage's snapshot changes. A snapshot of another format is
 * dropped, never half-read: the stage then rebuilds from a full list of etcd instead.
 */
export const SNAPSHOT_FORMAT = 1;

/** What every snapshot says about itself, whichever stage wrote it. */
export interface SnapshotHeader {
  readonly format: number;
  readonly stage: string;
  /** The etcd revision the stage's state reflects. */
  readonly revision: number;
  /** The object prefix the daemon ran with: a snapshot of another prefix is someone else's. */
  readonly prefix: string;
  /** Milliseconds since the epoch. */
  readonly takenAt: number;
}

export interface Snapshot<T> extends SnapshotHeader {
  readonly data: T;
}

// Records (msgpackr's shared structures) are off: a snapshot must decode on its own, in a
// process that has never seen the one that wrote it.
const packr = new Packr({ useRecords: false, moreTypes: false });

const DIGEST_BYTES = 32;

/**
 * Encodes a snapshot with msgpackr, followed by a SHA-256 of the encoding: msgpack decodes
 * many corrupt inputs without complaint, and a damaged snapshot must be refused, not used.
 */
export function encodeSnapshot<T>(snapshot: Snapshot<T>): Buffer {
  const body = packr.pack(snapshot);
  return Buffer.concat([body, digest(body)]);
}

/**
 * Decodes what `encodeSnapshot` made, checking its integrity, format, stage and prefix.
 * Throws `SnapshotError` on anything else; the caller drops the snapshot and relists.
 */
export function decodeSnapshot<T>(
  bytes: Uint8Array,
  expected: { stage: string; prefix: string },
): Snapshot<T> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length <= DIGEST_BYTES) throw new SnapshotError(expected.stage, 'it is truncated');
  const body = buffer.subarray(0, buffer.length - DIGEST_BYTES);
  if (!digest(body).equals(buffer.subarray(buffer.length - DIGEST_BYTES))) {
    throw new SnapshotError(expected.stage, 'its checksum does not match');
  }

  let decoded: unknown;
  try {
    decoded = packr.unpack(body);
  } catch (err) {
    throw new SnapshotError(expected.stage, 'it is not valid msgpack', err);
  }
  const header = decoded as Partial<Snapshot<T>> | null;
  if (typeof header !== 'object' || header === null) {
    throw new SnapshotError(expected.stage, 'it is not a snapshot');
  }
  if (header.format !== SNAPSHOT_FORMAT) {
    throw new SnapshotError(expected.stage, `its format ${String(header.format)} is not ours`);
  }
  if (header.stage !== expected.stage || header.prefix !== expected.prefix) {
    throw new SnapshotError(
      expected.stage,
      `it belongs to stage ${String(header.stage)} of prefix ${String(header.prefix)}`,
    );
  }
  if (typeof header.revision !== 'number' || !(header.revision >= 0)) {
    throw new SnapshotError(expected.stage, 'it has no revision');
  }
  return header as Snapshot<T>;
}

function digest(body: Uint8Array): Buffer {
  return createHash('sha256').update(body).digest();
}
