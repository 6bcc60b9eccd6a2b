// Object store buckets on top of streams, over the JetStream API only (ADR-20 as
// nats.go/nats.js lay it out, so their clients read what we wrote): bucket B
// is stream `OBJ_B` capturing `$O.B.C.>` (chunks) and `$O.B.M.>` (metadata). An
// object's chunks go to `$O.B.C.<nuid>`; its metadata (JSON, rolled up per name
// with `Nats-Rollup: sub`) to `$O.B.M.<base64url(name), padded>`.
//
// Upload and download stream: one chunk is in memory at a time, and each chunk
// waits for its PubAck before the next is read from the source, so a 1 GiB
// object needs about one chunk of memory, not 1 GiB.

import { createHash, randomBytes } from 'node:crypto';
import { MessageHeaders } from '../../broker/headers.ts';
import type { StreamInfoWire } from '../../protocol/jetstream-wire.ts';
import type { JetStreamClient } from '../jetstream-client.ts';

export const DEFAULT_CHUNK_SIZE = 128 * 1024;
const VALID_BUCKET = /^[-_A-Za-z0-9]+$/;

export interface ObjectInfo {
  name: string;
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  mtime: string;
  digest: string;
  deleted?: boolean;
  description?: string;
  headers?: Record<string, string[]>;
  options?: { max_chunk_size?: number };
}

export class ObjectStoreError extends Error {
  constructor(
    readonly kind: 'invalid_bucket' | 'invalid_name' | 'not_found' | 'digest_mismatch',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ObjectStoreError';
  }
}

export const objectStreamName = (bucket: string): string => `OBJ_${bucket}`;
export const metaSubject = (bucket: string, name: string): string => `$O.${bucket}.M.${Buffer.from(name, 'utf8').toString('base64url').padEnd(Math.ceil(Buffer.byteLength(name) / 3) * 4, '=')}`;
export const chunkSubject = (bucket: string, nuid: string): string => `$O.${bucket}.C.${nuid}`;

export class ObjectStoreClient {
  constructor(readonly js: JetStreamClient) {}

  checkBucket(bucket: string): void {
    if (!VALID_BUCKET.test(bucket)) throw new ObjectStoreError('invalid_bucket', `invalid bucket name ${JSON.stringify(bucket)}`, { bucket });
  }

  async createBucket(bucket: string, options: { ttl_ms?: number; max_bytes?: number; storage?: 'file' | 'memory'; description?: string }): Promise<StreamInfoWire> {
    this.checkBucket(bucket);
    return this.js.createStream({
      name: objectStreamName(bucket),
      subjects: [`$O.${bucket}.C.>`, `$O.${bucket}.M.>`],
      max_age: (options.ttl_ms ?? 0) * 1_000_000,
      max_bytes: options.max_bytes ?? -1,
      storage: options.storage ?? 'file',
      discard: 'new',
      allow_rollup_hdrs: true,
      allow_direct: true,
      // No num_replicas: on a cluster the deployment's --stream-replicas fills it in.
      ...(options.description === undefined ? {} : { description: options.description }),
    });
  }

  async deleteBucket(bucket: string): Promise<void> {
    this.checkBucket(bucket);
    await this.js.deleteStream(objectStreamName(bucket));
  }

  async bucketInfo(bucket: string): Promise<StreamInfoWire> {
    this.checkBucket(bucket);
    return this.js.streamInfo(objectStreamName(bucket));
  }

  /** Current metadata for a name (deleted ones included), or null. */
  async info(bucket: string, name: string): Promise<ObjectInfo | null> {
    this.checkBucket(bucket);
    const m = await this.js.getMessage(objectStreamName(bucket), { last_by_subj: metaSubject(bucket, name) });
    if (m === null || m.data === undefined) return null;
    return JSON.parse(Buffer.from(m.data, 'base64').toString('utf8')) as ObjectInfo;
  }

  async list(bucket: string): Promise<ObjectInfo[]> {
    this.checkBucket(bucket);
    const prefix = `$O.${bucket}.M.`;
    const subjects = await this.js.storedSubjects(objectStreamName(bucket), `${prefix}>`);
    const out: ObjectInfo[] = [];
    for (const subject of subjects.sort()) {
      const m = await this.js.getMessage(objectStreamName(bucket), { last_by_subj: subject });
      if (m?.data === undefined) continue;
      const info = JSON.parse(Buffer.from(m.data, 'base64').toString('utf8')) as ObjectInfo;
      if (info.deleted !== true) out.push(info);
    }
    return out;
  }

  /**
   * Store an object from an async byte source, one chunk at a time. The metadata
   * is written last, so readers never see a half-written object; the chunks of
   * the version it replaces are purged afterwards.
   */
  async put(bucket: string, name: string, source: AsyncIterable<Uint8Array>, options: { chunkSize: number; headers?: Record<string, string[]>; description?: string }): Promise<ObjectInfo> {
    this.checkBucket(bucket);
    if (name.length === 0) throw new ObjectStoreError('invalid_name', 'empty object name');
    const previous = await this.info(bucket, name);
    const nuid = randomBytes(16).toString('base64url').replace(/[-_]/g, 'x');
    const subject = chunkSubject(bucket, nuid);
    const hash = createHash('sha256');
    let pending = Buffer.allocUnsafe(options.chunkSize);
    let filled = 0;
    let size = 0;
    let chunks = 0;
    const flush = async (): Promise<void> => {
      if (filled === 0) return;
      const chunk = pending.subarray(0, filled);
      hash.update(chunk);
      await this.js.publish(subject, chunk, null);
      chunks++;
      size += filled;
      pending = Buffer.allocUnsafe(options.chunkSize); // the published chunk may still be referenced
      filled = 0;
    };
    try {
      for await (const piece of source) {
        let offset = 0;
        while (offset < piece.byteLength) {
          const take = Math.min(options.chunkSize - filled, piece.byteLength - offset);
          pending.set(piece.subarray(offset, offset + take), filled);
          filled += take;
          offset += take;
          if (filled === options.chunkSize) await flush();
        }
      }
      await flush();
    } catch (error) {
      // The body broke off: drop what was stored of this upload, keep the old version.
      await this.js.purgeStream(objectStreamName(bucket), { filter: subject }).catch(() => {});
      throw error;
    }
    const info: ObjectInfo = {
      name,
      bucket,
      nuid,
      size,
      chunks,
      mtime: new Date().toISOString(),
      // Padded base64url, as nats.go and nats.js write and check it.
      digest: `SHA-256=${hash.digest('base64').replace(/\+/g, '-').replace(/\//g, '_')}`,
      options: { max_chunk_size: options.chunkSize },
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
    await this.writeMeta(bucket, info);
    if (previous !== null && previous.deleted !== true && previous.nuid !== nuid) {
      await this.js.purgeStream(objectStreamName(bucket), { filter: chunkSubject(bucket, previous.nuid) });
    }
    return info;
  }

  /** The object's bytes, chunk by chunk, in order; pulls the next chunk only when asked. */
  async *read(bucket: string, info: ObjectInfo): AsyncGenerator<Buffer> {
    const subject = chunkSubject(bucket, info.nuid);
    let next = 1;
    for (let i = 0; i < info.chunks; i++) {
      const m = await this.js.getMessage(objectStreamName(bucket), { seq: next, next_by_subj: subject });
      if (m === null) throw new ObjectStoreError('not_found', `object ${JSON.stringify(info.name)} is missing chunk ${i + 1} of ${info.chunks}`, { bucket, name: info.name });
      next = m.seq + 1;
      yield m.data === undefined ? Buffer.alloc(0) : Buffer.from(m.data, 'base64');
    }
  }

  async delete(bucket: string, name: string): Promise<void> {
    const info = await this.info(bucket, name);
    if (info === null || info.deleted === true) throw new ObjectStoreError('not_found', `no object ${JSON.stringify(name)} in bucket ${JSON.stringify(bucket)}`, { bucket, name });
    await this.writeMeta(bucket, { ...info, size: 0, chunks: 0, digest: '', deleted: true, mtime: new Date().toISOString() });
    await this.js.purgeStream(objectStreamName(bucket), { filter: chunkSubject(bucket, info.nuid) });
  }

  private async writeMeta(bucket: string, info: ObjectInfo): Promise<void> {
    const headers = new MessageHeaders().set('Nats-Rollup', 'sub');
    await this.js.publish(metaSubject(bucket, info.name), Buffer.from(JSON.stringify(info), 'utf8'), headers);
  }
}
