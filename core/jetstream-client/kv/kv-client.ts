// Key-value buckets on top of streams, over the JetStream API only (ADR-8 as
// nats.js and nats-server implement it): bucket B is stream `KV_B` capturing
// `$KV.B.>`; an entry is the last message on `$KV.B.<key>`, its stream sequence
// is the revision; deletes and purges are markers (`KV-Operation: DEL | PURGE`,
// purge with `Nats-Rollup: sub`). Compare-and-set uses
// `Nats-Expected-Last-Subject-Sequence`.
//
// Key encoding (documented in the OpenAPI description): a key that is a valid KV
// key (`[-/_=.A-Za-z0-9]`, no empty `.`-separated part) and does not start with `=`
// is stored as it is. Any other key is stored as `=` + base64url(UTF-8 key), so
// every HTTP key has exactly one stored form and listing can decode it.

import { MessageHeaders } from '../../broker/headers.ts';
import { JetStreamApiCodes, JetStreamApiError } from '../../protocol/jetstream-api-error.ts';
import type { StreamInfoWire } from '../../protocol/jetstream-wire.ts';
import type { JetStreamClient } from '../jetstream-client.ts';
import { decodeStoredMessage, type StoredMessageWire } from '../stored-message.ts';
import { rfc3339Nanos } from '../timestamp.ts';

/** Valid KV key characters in `.`-separated parts, none empty (one regex: listings test every key). */
const VALID_KEY = /^[-/_=A-Za-z0-9]+(?:\.[-/_=A-Za-z0-9]+)*$/;
const VALID_BUCKET = /^[-_A-Za-z0-9]+$/;
const NANOS_PER_MS = 1_000_000;
/** Key lookups a listing keeps in flight at once. */
const LOOKUPS_IN_FLIGHT = 64;

export type KvOperation = 'PUT' | 'DEL' | 'PURGE';

export interface KvEntry {
  bucket: string;
  key: string;
  revision: number;
  operation: KvOperation;
  created: string;
  value: Buffer;
}

export interface BucketOptions {
  history?: number;
  ttl_ms?: number;
  max_bytes?: number;
  max_value_size?: number;
  storage?: 'file' | 'memory';
  /** Every key is a counter (ADR-49 `allow_msg_counter`; nats-server 2.12 or Switchboard). */
  counter?: boolean;
}

export class KvError extends Error {
  constructor(
    readonly kind: 'invalid_bucket' | 'invalid_key' | 'wrong_revision' | 'exists' | 'not_counter',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'KvError';
  }
}

export function isValidBucketName(bucket: string): boolean {
  return VALID_BUCKET.test(bucket);
}

function isPlainKey(key: string): boolean {
  return VALID_KEY.test(key) && !key.startsWith('=');
}

/** HTTP key -> stored key (see the rule above). */
export function encodeKey(key: string): string {
  if (key.length === 0) throw new KvError('invalid_key', 'empty key');
  return isPlainKey(key) ? key : `=${Buffer.from(key, 'utf8').toString('base64url')}`;
}

/** Stored key -> HTTP key. */
export function decodeKey(stored: string): string {
  return stored.startsWith('=') ? Buffer.from(stored.slice(1), 'base64url').toString('utf8') : stored;
}

export function streamName(bucket: string): string {
  return `KV_${bucket}`;
}

export function keySubject(bucket: string, storedKey: string): string {
  return `$KV.${bucket}.${storedKey}`;
}

/** An entry from a stored message's parts; the operation is the `KV-Operation` marker (ADR-8), PUT without one; `created` in the one form of timestamp.ts. */
export function entryOf(bucket: string, subject: string, headers: MessageHeaders | null, value: Buffer, revision: number, created: string): KvEntry {
  const op = headers?.get('KV-Operation');
  const prefix = `$KV.${bucket}.`;
  return {
    bucket,
    key: decodeKey(subject.startsWith(prefix) ? subject.slice(prefix.length) : subject),
    revision,
    operation: op === 'DEL' || op === 'PURGE' ? op : 'PUT',
    created: rfc3339Nanos(created),
    value,
  };
}

export class KvClient {
  constructor(readonly js: JetStreamClient) {}

  private checkBucket(bucket: string): void {
    if (!isValidBucketName(bucket)) throw new KvError('invalid_bucket', `invalid bucket name ${JSON.stringify(bucket)}`, { bucket });
  }

  async createBucket(bucket: string, options: BucketOptions): Promise<StreamInfoWire> {
    this.checkBucket(bucket);
    const history = options.history ?? 1;
    const ttlNs = (options.ttl_ms ?? 0) * NANOS_PER_MS;
    const twoMinutesNs = 120_000 * NANOS_PER_MS;
    return this.js.createStream({
      name: streamName(bucket),
      subjects: [`$KV.${bucket}.>`],
      max_msgs_per_subject: history,
      max_age: ttlNs,
      max_bytes: options.max_bytes ?? -1,
      max_msg_size: options.max_value_size ?? -1,
      storage: options.storage ?? 'file',
      // A counter stream may not discard new (ADR-49); other buckets refuse writes past their limits.
      discard: options.counter === true ? 'old' : 'new',
      ...(options.counter === true ? { allow_msg_counter: true } : {}),
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: true,
      // No num_replicas: on a cluster the deployment's --stream-replicas fills it in
      // (core/broker/stream-replicas.ts); an explicit 1 would win and leave buckets R1.
      duplicate_window: ttlNs > 0 && ttlNs < twoMinutesNs ? ttlNs : twoMinutesNs,
    });
  }

  async bucketInfo(bucket: string): Promise<StreamInfoWire> {
    this.checkBucket(bucket);
    return this.js.streamInfo(streamName(bucket));
  }

  async deleteBucket(bucket: string): Promise<void> {
    this.checkBucket(bucket);
    await this.js.deleteStream(streamName(bucket));
  }

  entryFrom(bucket: string, m: StoredMessageWire): KvEntry {
    const { subject, headers, data, seq, time } = decodeStoredMessage(m);
    return entryOf(bucket, subject, headers, data, seq, time);
  }

  /** The latest entry for a key (a DEL/PURGE marker included), or null. */
  async last(bucket: string, key: string): Promise<KvEntry | null> {
    this.checkBucket(bucket);
    const m = await this.js.getMessage(streamName(bucket), { last_by_subj: keySubject(bucket, encodeKey(key)) });
    return m === null ? null : this.entryFrom(bucket, m);
  }

  /** A specific revision of a key, or null when that revision is not this key's. */
  async revision(bucket: string, key: string, revision: number): Promise<KvEntry | null> {
    this.checkBucket(bucket);
    const m = await this.js.getMessage(streamName(bucket), { seq: revision });
    if (m === null || m.subject !== keySubject(bucket, encodeKey(key))) return null;
    return this.entryFrom(bucket, m);
  }

  /** Every stored revision of a key, oldest first (bounded by the bucket's history). */
  async history(bucket: string, key: string, limit = 1000): Promise<KvEntry[]> {
    this.checkBucket(bucket);
    const subject = keySubject(bucket, encodeKey(key));
    const out: KvEntry[] = [];
    let next = 1;
    while (out.length < limit) {
      const m = await this.js.getMessage(streamName(bucket), { seq: next, next_by_subj: subject });
      if (m === null) break;
      out.push(this.entryFrom(bucket, m));
      next = m.seq + 1;
    }
    return out;
  }

  /**
   * Write a value. `expected`: a revision the key must be at (compare-and-set;
   * 0 = must not exist), or undefined for an unconditional put.
   */
  async put(bucket: string, key: string, value: Uint8Array, expected?: number, headers = new MessageHeaders()): Promise<number> {
    this.checkBucket(bucket);
    if (expected !== undefined) headers.set('Nats-Expected-Last-Subject-Sequence', String(expected));
    try {
      return (await this.js.publish(keySubject(bucket, encodeKey(key)), value, headers.size > 0 ? headers : null)).seq;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.errCode === JetStreamApiCodes.StreamWrongLastSequence) {
        throw new KvError('wrong_revision', `key ${JSON.stringify(key)} is not at revision ${expected}`, { bucket, key, expected_revision: expected });
      }
      throw error;
    }
  }

  /** Add `delta` to a counter key of a counter bucket and return the new total, atomically on the server. */
  async increment(bucket: string, key: string, delta: bigint): Promise<bigint> {
    this.checkBucket(bucket);
    const ack = await this.js.publish(keySubject(bucket, encodeKey(key)), new Uint8Array(0), new MessageHeaders().set('Nats-Incr', delta.toString()));
    // A server without counters (before 2.12) stores the empty message and answers a plain PubAck.
    if (ack.val === undefined) throw new KvError('not_counter', `bucket ${JSON.stringify(bucket)} is not a counter bucket (the server answered without a total)`, { bucket, seq: ack.seq });
    return BigInt(ack.val);
  }

  /** Create only: succeeds when the key has never existed or was deleted/purged. */
  async create(bucket: string, key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.put(bucket, key, value, 0);
    } catch (error) {
      if (!(error instanceof KvError && error.kind === 'wrong_revision')) throw error;
      const current = await this.last(bucket, key);
      if (current === null || current.operation === 'PUT') {
        throw new KvError('exists', `key ${JSON.stringify(key)} exists`, { bucket, key, revision: current?.revision });
      }
      return this.put(bucket, key, value, current.revision);
    }
  }

  /** Delete (a DEL marker, history kept) or purge (a PURGE marker replacing the history). */
  async delete(bucket: string, key: string, purge: boolean, expected?: number): Promise<number> {
    const headers = new MessageHeaders().set('KV-Operation', purge ? 'PURGE' : 'DEL');
    if (purge) headers.set('Nats-Rollup', 'sub');
    return this.put(bucket, key, new Uint8Array(0), expected, headers);
  }

  /**
   * Live keys in sorted order after `after`, matching `filter` (a subject filter
   * over stored keys), at most `limit`. Keys whose latest entry is a delete or
   * purge marker are skipped. The lookups go out a batch at a time, so over a
   * network they cost one round trip per batch rather than per key.
   */
  async keys(bucket: string, options: { filter?: string; after?: string; limit: number }): Promise<{ keys: string[]; more: boolean }> {
    this.checkBucket(bucket);
    const prefix = `$KV.${bucket}.`;
    const subjects = await this.js.storedSubjects(streamName(bucket), prefix + (options.filter ?? '>'));
    const afterStored = options.after === undefined ? undefined : encodeKey(options.after);
    const stored = subjects.map((s) => s.slice(prefix.length)).filter((key) => afterStored === undefined || key > afterStored).sort();
    const keys: string[] = [];
    let next = 0;
    while (next < stored.length && keys.length < options.limit) {
      const batch = stored.slice(next, next + Math.min(LOOKUPS_IN_FLIGHT, options.limit - keys.length));
      next += batch.length;
      const latest = await Promise.all(batch.map((key) => this.js.getMessage(streamName(bucket), { last_by_subj: prefix + key })));
      latest.forEach((m, i) => {
        if (m !== null && this.entryFrom(bucket, m).operation === 'PUT') keys.push(decodeKey(batch[i]));
      });
    }
    return { keys, more: next < stored.length };
  }
}
