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
// undefined keys and values too). `recordSize` answers -1 for anything else,
// and callers then leave the work to kafkajs, so its behaviour (its errors
// included) stays exactly as shipped.

export interface RecordFields {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

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
 * key order), or null when the headers are not an object of bytes or text.
 */
function flattenHeaders(fields: RecordFields): FlatHeaders | null {
  const headers = fields.headers === undefined ? NO_HEADERS_OBJECT : fields.headers;
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

const NO_HEADERS_OBJECT = {};

/** The record's body size (everything after its length varint), or -1 when the input is not ordinary. */
export function recordBodySize(fields: RecordFields): number {
  const { offsetDelta = 0, timestampDelta = 0, key, value } = fields;
  if (!Number.isInteger(timestampDelta) || Math.abs(timestampDelta) >= 2 ** 52 || (offsetDelta | 0) !== offsetDelta) return -1;
  if (!isOptionalBytes(key) || !isOptionalBytes(value)) return -1;
  const headers = flattenHeaders(fields);
  if (headers === null) return -1;
  let size = 1 + sizeOfUVarLong(zigZag64(timestampDelta)) + sizeOfUVarInt(zigZag32(offsetDelta)) + sizeOfField(contentLength(key)) + sizeOfField(contentLength(value));
  size += sizeOfUVarInt(zigZag32(headers.keys.length));
  for (let i = 0; i < headers.keys.length; i++) size += sizeOfField(Buffer.byteLength(headers.keys[i]!, 'utf8')) + sizeOfField(contentLength(headers.values[i]));
  return size;
}

/** The whole record's size: its length varint and its body. */
export function recordSize(bodySize: number): number {
  return sizeOfUVarInt(zigZag32(bodySize)) + bodySize;
}

/**
 * Writes a record whose `recordBodySize` was `bodySize` (not -1) at `at`, and
 * returns the offset after it. The caller made room for `recordSize(bodySize)`.
 */
export function writeRecord(buf: Buffer, at: number, fields: RecordFields, bodySize: number): number {
  const { offsetDelta = 0, timestampDelta = 0 } = fields;
  const headers = flattenHeaders(fields) as FlatHeaders;
  at = writeUVarInt(buf, at, zigZag32(bodySize));
  buf[at++] = 0; // attributes: none are used on a record
  at = writeUVarLong(buf, at, zigZag64(timestampDelta));
  at = writeUVarInt(buf, at, zigZag32(offsetDelta));
  at = writeField(buf, at, fields.key as Bytes | null | undefined);
  at = writeField(buf, at, fields.value as Bytes | null | undefined);
  at = writeUVarInt(buf, at, zigZag32(headers.keys.length));
  for (let i = 0; i < headers.keys.length; i++) {
    at = writeField(buf, at, headers.keys[i]);
    at = writeField(buf, at, headers.values[i]);
  }
  return at;
}
