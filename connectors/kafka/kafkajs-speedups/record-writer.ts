// One Kafka record (magic 2), written straight into a buffer the caller sized.
// The layout, as Kafka's DefaultRecord has it and kafkajs's recordBatch/record/v0
// writes it:
//   length varint, attributes int8 (0), timestampDelta varlong,
//   offsetDelta varint, key varint-length bytes (-1: null),
//   value varint-length bytes (-1: null), header count varint,
//   each header: key varint-length UTF-8, value varint-length bytes.
// Varints are zigzag LEB128. Text keys, values and header values are UTF-8.
//
// Only ordinary input is taken: integer deltas (timestamps within 2^52 ms), and
// keys, values and header values that are Buffers or strings (null and
// undefined keys and values too). `recordParts` answers null for anything else,
// and callers then leave the work to kafkajs, so its behaviour (its errors
// included) stays exactly as shipped. Each part is read once, as kafkajs reads
// it once, and written from that reading.

type Bytes = Buffer | string;

function isBytes(value: unknown): value is Bytes {
  return typeof value === 'string' || Buffer.isBuffer(value);
}

function isOptionalBytes(value: unknown): value is Bytes | null | undefined {
  return value === null || value === undefined || isBytes(value);
}

/** Bytes of a field's content; -1 for null or undefined (written as length -1). */
function contentLength(value: Bytes | null | undefined): number {
  if (value === null || value === undefined) return -1;
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

/** Bytes of a length-prefixed field of `length` content bytes (-1: null, the prefix alone). */
function sizeOfField(length: number): number {
  return sizeOfUVarInt(zigZag32(length)) + Math.max(length, 0);
}

function writeField(buf: Buffer, at: number, value: Bytes | null | undefined): number {
  const length = contentLength(value);
  at = writeUVarInt(buf, at, zigZag32(length));
  if (length <= 0) return at;
  if (typeof value === 'string') buf.write(value, at, length, 'utf8');
  else buf.set(value as Buffer, at);
  return at + length;
}

interface FlatHeaders {
  keys: string[];
  values: Bytes[];
}

const NO_HEADERS: FlatHeaders = { keys: [], values: [] };

/**
 * The headers as kafkajs flattens them (one entry per value of an array, in
 * key order; undefined is none), or null when they are not an object of bytes
 * or text.
 */
function flattenHeaders(headers: unknown): FlatHeaders | null {
  if (headers === undefined) return NO_HEADERS;
  if (typeof headers !== 'object' || headers === null) return null;
  const names = Object.keys(headers);
  if (names.length === 0) return NO_HEADERS;
  const flat: FlatHeaders = { keys: [], values: [] };
  for (const key of names) {
    const value: unknown = (headers as Record<string, unknown>)[key];
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (!isBytes(item)) return null;
      flat.keys.push(key);
      flat.values.push(item);
    }
  }
  return flat;
}

/** One record, read and checked: what writeRecord writes. */
export interface RecordParts {
  readonly offsetDelta: number;
  readonly timestampDelta: number;
  readonly key: Bytes | null | undefined;
  readonly value: Bytes | null | undefined;
  readonly headers: FlatHeaders;
  /** Everything after the record's length varint. */
  readonly bodySize: number;
}

/** The record's parts, or null when one is not ordinary (kafkajs then encodes it). */
export function recordParts(offsetDelta: unknown, timestampDelta: unknown, key: unknown, value: unknown, headers: unknown): RecordParts | null {
  if (typeof offsetDelta !== 'number' || (offsetDelta | 0) !== offsetDelta) return null;
  if (typeof timestampDelta !== 'number' || !Number.isInteger(timestampDelta) || Math.abs(timestampDelta) >= 2 ** 52) return null;
  if (!isOptionalBytes(key) || !isOptionalBytes(value)) return null;
  const flat = flattenHeaders(headers);
  if (flat === null) return null;
  let bodySize = 1 + sizeOfUVarLong(zigZag64(timestampDelta)) + sizeOfUVarInt(zigZag32(offsetDelta)) + sizeOfField(contentLength(key)) + sizeOfField(contentLength(value));
  bodySize += sizeOfUVarInt(zigZag32(flat.keys.length));
  for (let i = 0; i < flat.keys.length; i++) bodySize += sizeOfField(Buffer.byteLength(flat.keys[i]!, 'utf8')) + sizeOfField(contentLength(flat.values[i]));
  return { offsetDelta, timestampDelta, key, value, headers: flat, bodySize };
}

/** The whole record's size: its length varint and its body. */
export function recordSize(parts: RecordParts): number {
  return sizeOfUVarInt(zigZag32(parts.bodySize)) + parts.bodySize;
}

/** Writes the record at `at` (the caller made room for recordSize(parts)); returns the offset after it. */
export function writeRecord(buf: Buffer, at: number, parts: RecordParts): number {
  const { headers } = parts;
  at = writeUVarInt(buf, at, zigZag32(parts.bodySize));
  buf[at++] = 0; // attributes: none are used on a record
  at = writeUVarLong(buf, at, zigZag64(parts.timestampDelta));
  at = writeUVarInt(buf, at, zigZag32(parts.offsetDelta));
  at = writeField(buf, at, parts.key);
  at = writeField(buf, at, parts.value);
  at = writeUVarInt(buf, at, zigZag32(headers.keys.length));
  for (let i = 0; i < headers.keys.length; i++) {
    at = writeField(buf, at, headers.keys[i]);
    at = writeField(buf, at, headers.values[i]);
  }
  return at;
}
