// kafkajs's Produce request (requests/produce/v3, which v4 to v7 reuse) for
// uncompressed batches, written in one pass into one buffer. The original
// encodes every record into an Encoder of its own, then copies the records
// into the batch body, the body into the batch, the batch into the partition,
// the partition into the topic and the topic into the request: six copies of
// every byte, each into a buffer grown by doubling. Here each record is
// written once, where it ends up, and the CRC-32C is computed in place.
//
// Produce Request (v3-v7) => transactional_id acks timeout [topic [partition record_set]]
// record_set, one RecordBatch (magic 2) per partition:
//   firstOffset int64, length int32, partitionLeaderEpoch int32, magic int8,
//   crc uint32 (CRC-32C of everything after it), attributes int16,
//   lastOffsetDelta int32, firstTimestamp int64, maxTimestamp int64,
//   producerId int64, producerEpoch int16, firstSequence int32, [Record]
//
// Compressed batches, and any request with a message kafkajs would not encode
// as plain bytes or text (see record-writer.ts), a message that is not a plain
// object, or a topic that is not a string, go to kafkajs's own encoder. Each
// message field is read once, as kafkajs reads it once.

import { crc32c } from './crc32c.ts';
import type { EncoderClass, EncoderShape } from './pooled-encoder.ts';
import { recordParts, recordSize, writeRecord, type RecordParts } from './record-writer.ts';

const PRODUCE_API_KEY = 0;
const MAGIC_BYTE = 2;
const TRANSACTIONAL_FLAG = 16;
const COMPRESSION_NONE = 0;
/** kafkajs's default producer id (Long -1): not idempotent. */
const NO_PRODUCER_ID = -1;

/** The Encoder methods used here, with kafkajs's own semantics (int64s through its Long). */
interface KafkaEncoder extends EncoderShape {
  ensureAvailable(length: number): void;
  writeString(value: string | null): KafkaEncoder;
  writeInt8(value: number): KafkaEncoder;
  writeInt16(value: number): KafkaEncoder;
  writeInt32(value: number): KafkaEncoder;
  writeUInt32(value: number): KafkaEncoder;
  writeInt64(value: unknown): KafkaEncoder;
}

interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: unknown;
}

interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: ProduceMessage[];
}

export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: Array<{ topic: string; partitions: PartitionData[] }>;
}

export interface KafkaRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<EncoderShape>;
}

/** One partition's batch, read and measured before anything is written. */
interface BatchPlan {
  firstTimestamp: unknown;
  maxTimestamp: unknown;
  records: RecordParts[];
  bytes: number;
}

/** Messages built as object literals: the only ones whose fields a spread ({...message}, as kafkajs copies them) and a plain read see alike. */
function isPlainObject(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const prototype: unknown = Object.getPrototypeOf(message);
  return prototype === Object.prototype || prototype === null;
}

/** The partition's plan, or null when a message is not ordinary (kafkajs then encodes the whole request). */
function planBatch(messages: ProduceMessage[]): BatchPlan | null {
  const dateNow = Date.now();
  if (!messages.every(isPlainObject)) return null;
  // Each field is read once, here; kafkajs's own expressions pick the batch's timestamps and each delta.
  const stamps = messages.map((message) => message.timestamp);
  const sorted = stamps.filter((timestamp) => timestamp != null).sort();
  const timestamps = sorted.length === 0 ? [dateNow] : sorted;
  const firstTimestamp = timestamps[0];
  const maxTimestamp = timestamps[timestamps.length - 1];
  const records: RecordParts[] = [];
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const { key, value, headers } = messages[i]!;
    const timestampDelta = ((stamps[i] || dateNow) as number) - (firstTimestamp as number);
    const parts = recordParts(i, timestampDelta, key, value, headers);
    if (parts === null) return null;
    records.push(parts);
    bytes += recordSize(parts);
  }
  return { firstTimestamp, maxTimestamp, records, bytes };
}

function writeBatch(out: KafkaEncoder, data: PartitionData, plan: BatchPlan, args: ProduceArgs): void {
  const count = plan.records.length;
  out.writeInt32(data.partition);
  const sizeAt = out.offset;
  out.writeInt32(0); // the record set's size, filled in below
  const setStart = out.offset;
  out.writeInt64(0); // firstOffset
  const lengthAt = out.offset;
  out.writeInt32(0); // the batch's length, filled in below
  const batchStart = out.offset;
  out.writeInt32(0).writeInt8(MAGIC_BYTE); // partitionLeaderEpoch, magic
  const crcAt = out.offset;
  out.writeUInt32(0); // CRC-32C, filled in below
  const crcStart = out.offset;
  out
    .writeInt16(COMPRESSION_NONE | (args.transactionalId ? TRANSACTIONAL_FLAG : 0))
    .writeInt32(count - 1) // lastOffsetDelta
    .writeInt64(plan.firstTimestamp)
    .writeInt64(plan.maxTimestamp)
    .writeInt64(args.producerId === undefined ? NO_PRODUCER_ID : args.producerId)
    .writeInt16(args.producerEpoch === undefined ? 0 : args.producerEpoch)
    .writeInt32(data.firstSequence === undefined ? 0 : data.firstSequence)
    .writeInt32(count);
  out.ensureAvailable(plan.bytes);
  let at = out.offset;
  for (const record of plan.records) at = writeRecord(out.buf, at, record);
  out.offset = at;
  const buf = out.buf;
  buf.writeUInt32BE(crc32c(buf.subarray(crcStart, at)), crcAt);
  buf.writeInt32BE(at - batchStart, lengthAt);
  buf.writeInt32BE(at - setStart, sizeAt);
}

/**
 * Stand-in for kafkajs's produce v3 request module. Compressed requests go to
 * `original`, as does the encoding of any request with a topic that is not a
 * string or a message that is not ordinary (see planBatch).
 */
export function singlePassProduceRequest(original: (args: ProduceArgs) => KafkaRequest, Encoder: EncoderClass): (args: ProduceArgs) => KafkaRequest {
  return (args) => {
    // kafkajs defaults only an absent compression to none (null goes to its codec lookup, and fails there).
    if (args.compression !== undefined && args.compression !== COMPRESSION_NONE) return original(args);
    return {
      apiKey: PRODUCE_API_KEY,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => args.acks !== 0,
      encode: async () => {
        const plans: BatchPlan[][] = [];
        let bytes = 64;
        for (const { topic, partitions } of args.topicData) {
          if (typeof topic !== 'string') return original(args).encode();
          const topicPlans: BatchPlan[] = [];
          for (const data of partitions) {
            const plan = planBatch(data.messages);
            if (plan === null) return original(args).encode();
            topicPlans.push(plan);
            bytes += plan.bytes + 128;
          }
          plans.push(topicPlans);
          bytes += Buffer.byteLength(topic, 'utf8') + 8;
        }
        const out = new Encoder(bytes) as KafkaEncoder;
        out.writeString(args.transactionalId ?? null).writeInt16(args.acks).writeInt32(args.timeout).writeInt32(args.topicData.length);
        args.topicData.forEach(({ topic, partitions }, t) => {
          out.writeString(topic).writeInt32(partitions.length);
          partitions.forEach((data, p) => writeBatch(out, data, plans[t]![p]!, args));
        });
        return out;
      },
    };
  };
}
