// kafkajs's Record encoder (recordBatch/record/v0), writing each record into
// one buffer of its exact size. The original builds a growing Encoder per
// record and one per header, and every varint it writes goes through a fresh
// array and Buffer.from: with 1 KiB records that was about a third of the
// produce path's CPU. (Uncompressed produce requests no longer call it at all,
// see produce-request.ts; compressed ones still do.)

import type { EncoderClass, EncoderShape } from './pooled-encoder.ts';
import { recordParts, recordSize, writeRecord } from './record-writer.ts';

/** kafkajs's Record input (recordBatch/record/v0). */
export interface RecordFields {
  offsetDelta?: unknown;
  timestampDelta?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

type RecordEncoder = (fields: RecordFields) => EncoderShape;

/** Stand-in for kafkajs's Record: the same bytes, in an Encoder of exactly the record's size; unusual input goes to `original`. */
export function exactRecordEncoder(original: RecordEncoder, Encoder: EncoderClass): RecordEncoder {
  return function encodeRecord(fields: RecordFields): EncoderShape {
    // Read once, with kafkajs's defaults, as its destructuring reads them.
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = fields;
    const parts = recordParts(offsetDelta, timestampDelta, key, value, headers);
    if (parts === null) return original({ offsetDelta, timestampDelta, key, value, headers });
    const record = Object.create(Encoder.prototype) as EncoderShape;
    record.buf = Buffer.allocUnsafe(recordSize(parts));
    record.offset = writeRecord(record.buf, 0, parts);
    return record;
  };
}
