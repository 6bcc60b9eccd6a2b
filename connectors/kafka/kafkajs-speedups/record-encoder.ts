// kafkajs's Record encoder (recordBatch/record/v0), writing each record into
// one buffer of its exact size. The original builds a growing Encoder per
// record and one per header, and every varint it writes goes through a fresh
// array and Buffer.from: with 1 KiB records that was about a third of the
// produce path's CPU.
//
// Record (magic 2), as Kafka's DefaultRecord lays it out:
//   length varint, attributes int8 (0), timestampDelta varlong,
//   offsetDelta varint, key varint-length bytes (-1: null),
//   value varint-length bytes (-1: null), header count varint,
//   each header: key varint-length UTF-8, value varint-length bytes.
// Varints are zigzag LEB128. Text keys, values and header values are UTF-8.
//
// Only the ordinary inputs are handled here: integer deltas (timestamps within 2^52 ms), and keys, values
// and header values that are Buffers or strings (null keys and values too).
// Anything else goes to kafkajs's own encoder, so its behaviour (its errors
// included) is unchanged.

import type { EncoderClass, EncoderShape } from './pooled-encoder.ts';

export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

type RecordEncoder = (input: RecordInput) => EncoderShape;

type Bytes = Buffer | string;

function isBytes(value: unknown): value is Bytes {
  return typeof value === 'string' || Buffer.isBuffer(value);
}

function byteLength(value: Bytes): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/** Bytes of an unsigned LEB128 of a 32-bit value, read as kafkajs reads it (`& 0xffffff80`, `>>> 7`). */
function sizeOfUVarInt(value: number): number {
  let bytes = 1;
  while ((value & 0xffffff80) !== 0) {
    bytes++;
    value >>>= 7;
  }
  return bytes;
}

function zigZag32(value: number): number {
  return (value << 1) ^ (value >> 31);
}

/** Zigzag of an integer under 2^52 in size: exact in a double. */
function zigZag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function sizeOfUVarLong(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    bytes++;
    value = Math.floor(value / 128);
  }
  return bytes;
}

function writeUVarInt(buf: Buffer, at: number, value: number): number {
  while ((value & 0xffffff80) !== 0) {
    buf[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buf[at++] = value & 0x7f;
  return at;
}

function writeUVarLong(buf: Buffer, at: number, value: number): number {
  while (value >= 128) {
    // `& 0x7f` of a double above 2^32 still gives its low seven bits: 2^32 is a multiple of 128.
    buf[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[at++] = value;
  return at;
}

/** A length-prefixed key, value or header value; null and undefined are length -1. */
function writeBytes(buf: Buffer, at: number, value: Bytes | null | undefined, length: number): number {
  if (value === null || value === undefined) return writeUVarInt(buf, at, zigZag32(-1));
  at = writeUVarInt(buf, at, zigZag32(length));
  if (typeof value === 'string') buf.write(value, at, length, 'utf8');
  else buf.set(value, at);
  return at + length;
}

/** Bytes of a length-prefixed field; length -1 (null) is the prefix alone. */
function sizeOfBytes(length: number): number {
  return sizeOfUVarInt(zigZag32(length)) + Math.max(length, 0);
}

/** The headers as kafkajs flattens them (one entry per value of an array), or null when one is not a Buffer or string. */
function flattenHeaders(headers: object): { keys: string[]; values: Bytes[] } | null {
  const keys: string[] = [];
  const values: Bytes[] = [];
  for (const key of Object.keys(headers)) {
    const value: unknown = (headers as Record<string, unknown>)[key];
    if (Array.isArray(value)) {
      for (const each of value as unknown[]) {
        if (!isBytes(each)) return null;
        keys.push(key);
        values.push(each);
      }
    } else {
      if (!isBytes(value)) return null;
      keys.push(key);
      values.push(value);
    }
  }
  return { keys, values };
}

/** Stand-in for kafkajs's Record: the same bytes, in an Encoder of exactly the record's size. */
export function exactRecordEncoder(original: RecordEncoder, Encoder: EncoderClass): RecordEncoder {
  return function encodeRecord(input: RecordInput): EncoderShape {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = input;
    const ordinary =
      Number.isInteger(timestampDelta) &&
      Math.abs(timestampDelta) < 2 ** 52 &&
      (offsetDelta | 0) === offsetDelta &&
      (key === null || key === undefined || isBytes(key)) &&
      (value === null || value === undefined || isBytes(value)) &&
      typeof headers === 'object' &&
      headers !== null;
    const flat = ordinary ? flattenHeaders(headers as object) : null;
    if (flat === null) return original(input);

    const keyLength = isBytes(key) ? byteLength(key) : -1;
    const valueLength = isBytes(value) ? byteLength(value) : -1;
    const timestamp = zigZag64(timestampDelta);
    const offset = zigZag32(offsetDelta);
    const headerKeyLengths: number[] = [];
    const headerValueLengths: number[] = [];
    let body = 1 + sizeOfUVarLong(timestamp) + sizeOfUVarInt(offset) + sizeOfBytes(keyLength) + sizeOfBytes(valueLength) + sizeOfUVarInt(zigZag32(flat.keys.length));
    for (let i = 0; i < flat.keys.length; i++) {
      const keyBytes = Buffer.byteLength(flat.keys[i]!, 'utf8');
      const valueBytes = byteLength(flat.values[i]!);
      headerKeyLengths.push(keyBytes);
      headerValueLengths.push(valueBytes);
      body += sizeOfBytes(keyBytes) + sizeOfBytes(valueBytes);
    }

    const total = sizeOfUVarInt(zigZag32(body)) + body;
    const buf = Buffer.allocUnsafe(total);
    let at = writeUVarInt(buf, 0, zigZag32(body));
    buf[at++] = 0; // attributes: none are used on a record
    at = writeUVarLong(buf, at, timestamp);
    at = writeUVarInt(buf, at, offset);
    at = writeBytes(buf, at, key as Bytes | null | undefined, keyLength);
    at = writeBytes(buf, at, value as Bytes | null | undefined, valueLength);
    at = writeUVarInt(buf, at, zigZag32(flat.keys.length));
    for (let i = 0; i < flat.keys.length; i++) {
      at = writeBytes(buf, at, flat.keys[i], headerKeyLengths[i]!);
      at = writeBytes(buf, at, flat.values[i], headerValueLengths[i]!);
    }

    const record = Object.create(Encoder.prototype) as EncoderShape;
    record.buf = buf;
    record.offset = at;
    return record;
  };
}
