// Kafka wire-format pieces the test proxy and its SASL answers share: the
// non-flexible encodings (int16-length strings, int32-length bytes) and a
// response frame (size, correlation id, body).

/** The offset just past an int16-length string (a null string has length -1). */
export function skipString(frame: Buffer, at: number): number {
  const len = frame.readInt16BE(at);
  return at + 2 + Math.max(0, len);
}

export function kafkaString(text: string | null): Buffer {
  if (text === null) return Buffer.from([0xff, 0xff]);
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(2 + bytes.length);
  out.writeInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

export function kafkaBytes(bytes: Buffer): Buffer {
  const out = Buffer.alloc(4 + bytes.length);
  out.writeInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

export function int16(value: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeInt16BE(value, 0);
  return out;
}

/** A response frame: size, correlation id, body. */
export function responseFrame(correlation: number, body: Buffer): Buffer {
  const frame = Buffer.alloc(8 + body.length);
  frame.writeInt32BE(4 + body.length, 0);
  frame.writeInt32BE(correlation, 4);
  body.copy(frame, 8);
  return frame;
}
