// The documented escaping rule for Kafka names and keys placed into NATS subject
// tokens (README "Kafka bridge"): a subject token cannot contain '.', whitespace,
// or be '*' or '>', so those bytes are percent-encoded as in RFC 3986.
//
//   kept as is : printable ASCII 0x21-0x7E except '.', '*', '>', '%'
//   otherwise  : each UTF-8 byte as %HH (upper-case hex)
//   empty/null : the single token '%' (never produced by the rule above)
//
// The rule is reversible, so `{2}` in a NATS -> Kafka topic template gives back
// the original topic name. The exact key always travels in the Kafka-Key header.

const HEX = '0123456789ABCDEF';

function keptAsIs(byte: number): boolean {
  return byte >= 0x21 && byte <= 0x7e && byte !== 0x2e && byte !== 0x2a && byte !== 0x3e && byte !== 0x25;
}

export const EMPTY_TOKEN = '%';

export function escapeSubjectToken(value: string | Uint8Array | null): string {
  if (value === null || value.length === 0) return EMPTY_TOKEN;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let fast = true;
  for (let i = 0; i < bytes.length; i++) {
    if (!keptAsIs(bytes[i])) {
      fast = false;
      break;
    }
  }
  if (fast) return typeof value === 'string' ? value : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out += keptAsIs(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/** Inverse of escapeSubjectToken, as bytes. A stray '%' not followed by two hex digits is kept literally. */
export function unescapeSubjectTokenBytes(token: string): Buffer {
  if (token === EMPTY_TOKEN) return Buffer.alloc(0);
  if (!token.includes('%')) return Buffer.from(token, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of token.matchAll(/%([0-9A-Fa-f]{2})/g)) {
    const at = match.index ?? 0;
    parts.push(Buffer.from(token.slice(last, at), 'utf8'), Buffer.from([Number.parseInt(match[1], 16)]));
    last = at + 3;
  }
  parts.push(Buffer.from(token.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

export function unescapeSubjectToken(token: string): string {
  return unescapeSubjectTokenBytes(token).toString('utf8');
}
