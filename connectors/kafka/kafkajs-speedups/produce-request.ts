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
// Compressed batches, and any message kafkajs would not encode as plain
// bytes or text (see record-writer.ts), go to kafkajs's own encoder. Messages
// are read as the plain objects kafkajs's API takes.

import { crc32c } from './crc32c.ts';
import type { EncoderClass, EncoderShape } from './pooled-encoder.ts';
import { recordBodySize, recordSize, writeRecord, type RecordFields } from './record-writer.ts';

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

/** One partition's batch, measured before anything is written. */
interface BatchPlan {
  firstTimestamp: unknown;
  maxTimestamp: unknown;
  deltas: number[];
  bodySizes: number[];
  bytes: number;
}

function isTimestamp(value: unknown): value is string | number | null | undefined {
  return value === undefined || value === null || typeof value === 'string' || typeof value === 'number';
}

/** The first and largest timestamps as kafkajs picks them: string-sorted, or Date.now() when no message has one. */
function batchTimestamps(messages: ProduceMessage[], dateNow: number): [unknown, unknown] {
  if (messages.every((message) => message.timestamp == null)) return [dateNow, dateNow];
  const sorted = messages
    .map((message) => message.timestamp)
    .filter((timestamp) => timestamp != null)
    .sort();
  return [sorted[0], sorted[sorted.length - 1]];
}

const scratch: RecordFields = { offsetDelta: 0, timestampDelta: 0, key: undefined, value: undefined, headers: undefined };

function fieldsOf(message: ProduceMessage, offsetDelta: number, timestampDelta: number): RecordFields {
  scratch.offsetDelta = offsetDelta;
  scratch.timestampDelta = timestampDelta;
  scratch.key = message.key;
  scratch.value = message.value;
  scratch.headers = message.headers;
  return scratch;
}

/** The partition's plan, or null when a message is not ordinary (kafkajs then encodes the request). */
function planBatch(messages: ProduceMessage[]): BatchPlan | null {
  const dateNow = Date.now();
  const [firstTimestamp, maxTimestamp] = batchTimestamps(messages, dateNow);
  const deltas: number[] = [];
  const bodySizes: number[] = [];
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    if (!isTimestamp(message.timestamp) || !isTimestamp(firstTimestamp)) return null;
    // kafkajs: (message.timestamp || dateNow) - firstTimestamp, on strings or numbers.
    const delta = Number(message.timestamp || dateNow) - Number(firstTimestamp);
    const body = recordBodySize(fieldsOf(message, i, delta));
    if (body < 0) return null;
    deltas.push(delta);
    bodySizes.push(body);
    bytes += recordSize(body);
  }
  return { firstTimestamp, maxTimestamp, deltas, bodySizes, bytes };
}

function writeBatch(out: KafkaEncoder, data: PartitionData, plan: BatchPlan, args: ProduceArgs): void {
  const { messages } = data;
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
    .writeInt32(messages.length - 1)
    .writeInt64(plan.firstTimestamp)
    .writeInt64(plan.maxTimestamp)
    .writeInt64(args.producerId === undefined ? NO_PRODUCER_ID : args.producerId)
    .writeInt16(args.producerEpoch === undefined ? 0 : args.producerEpoch)
    .writeInt32(data.firstSequence === undefined ? 0 : data.firstSequence)
    .writeInt32(messages.length);
  out.ensureAvailable(plan.bytes);
  let at = out.offset;
  for (let i = 0; i < messages.length; i++) at = writeRecord(out.buf, at, fieldsOf(messages[i]!, i, plan.deltas[i]!), plan.bodySizes[i]!);
  out.offset = at;
  const buf = out.buf;
  buf.writeUInt32BE(crc32c(buf.subarray(crcStart, at)), crcAt);
  buf.writeInt32BE(at - batchStart, lengthAt);
  buf.writeInt32BE(at - setStart, sizeAt);
}

/**
 * Stand-in for kafkajs's produce v3 request module: compressed requests go to
 * `original`, as does the encoding of any request with a message it would not
 * write as plain bytes or text.
 */
export function singlePassProduceRequest(original: (args: ProduceArgs) => KafkaRequest, Encoder: EncoderClass): (args: ProduceArgs) => KafkaRequest {
  return (args) => {
    if ((args.compression ?? COMPRESSION_NONE) !== COMPRESSION_NONE) return original(args);
    return {
      apiKey: PRODUCE_API_KEY,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => args.acks !== 0,
      encode: async () => {
        const plans: BatchPlan[][] = [];
        let bytes = 64;
        for (const { topic, partitions } of args.topicData) {
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
