// KV and object buckets are streams named by a prefix (`KV_<b>`, `OBJ_<b>`,
// ADR-8 and ADR-20): listing buckets is listing streams and keeping those, as
// nats.js's Kvm.list() and Objm.list() do.

import type { JetStreamClient } from '../../core/jetstream-client/jetstream-client.ts';
import type { StreamInfoWire } from '../../core/jetstream-client/jetstream-wire.ts';

/** The buckets whose stream names start with `prefix`, sorted by bucket name. */
export async function bucketStreams(js: JetStreamClient, prefix: string): Promise<Array<{ bucket: string; info: StreamInfoWire }>> {
  const found: Array<{ bucket: string; info: StreamInfoWire }> = [];
  for (const info of await js.streams()) {
    const name = info.config.name ?? '';
    if (name.startsWith(prefix) && name.length > prefix.length) found.push({ bucket: name.slice(prefix.length), info });
  }
  return found.sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
}

/** A stream's max_age (nanoseconds) as a bucket's ttl in ms. */
export function ttlMsOf(info: StreamInfoWire): number {
  return Math.floor(Number(info.config.max_age ?? 0) / 1_000_000);
}
