// ADR-50 batch publishes for jetstream-bench.ts: fast ingest through the
// official client (server-paced flow acks) and atomic batches of `batchSize`
// (raw publishes, a request for the commit, `parallel` batches in flight), to
// set against async publish with a PubAck per message.

import { headers, type NatsConnection } from '@nats-io/transport-node';
import { startFastIngest } from '@nats-io/jetstream/internal';

/** `count` messages of `size` bytes through one fast-ingest batch; msgs/s. */
export async function fastIngest(nc: NatsConnection, subject: string, count: number, size: number, ackInterval: number): Promise<number> {
  const payload = new Uint8Array(size).fill(97);
  const t0 = performance.now();
  const fi = await startFastIngest(nc, subject, payload, { ackInterval, allowGaps: false });
  for (let i = 2; i < count; i++) await fi.add(subject, payload);
  const ack = await fi.last(subject, payload);
  const secs = (performance.now() - t0) / 1000;
  if (ack.count !== count) throw new Error(`fast ingest stored ${ack.count} of ${count}`);
  return count / secs;
}

/** `count` messages in atomic batches of `batchSize`, `parallel` batches at a time; msgs/s. */
export async function atomicBatches(nc: NatsConnection, subject: string, count: number, size: number, batchSize: number, parallel: number): Promise<number> {
  const payload = new Uint8Array(size).fill(97);
  const batches = Math.ceil(count / batchSize);
  let next = 0;
  const t0 = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (next < batches) {
      const id = `bench${w}-${next++}`;
      for (let seq = 1; seq < batchSize; seq++) {
        const h = headers();
        h.set('Nats-Batch-Id', id);
        h.set('Nats-Batch-Sequence', String(seq));
        nc.publish(subject, payload, { headers: h });
      }
      const h = headers();
      h.set('Nats-Batch-Id', id);
      h.set('Nats-Batch-Sequence', String(batchSize));
      h.set('Nats-Batch-Commit', '1');
      const ack = (await nc.request(subject, payload, { headers: h, timeout: 30_000 })).json<{ count?: number; error?: unknown }>();
      if (ack.count !== batchSize) throw new Error(`atomic batch ${id}: ${JSON.stringify(ack.error ?? ack)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, w) => worker(w)));
  return (batches * batchSize) / ((performance.now() - t0) / 1000);
}
