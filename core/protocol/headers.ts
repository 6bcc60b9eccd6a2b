// NATS message headers (ADR-4): a `NATS/1.0[ <code>[ <description>]]` status line,
// then `Key: value` lines, then an empty line. Keys keep their case; a key may
// repeat (multi-value). Lookups are exact first, then case-insensitive, as the
// official clients do.

const CRLF = '\r\n';
const VERSION = 'NATS/1.0';

export class MessageHeaders {
  status = 0;
  description = '';
  private readonly entries: Array<[string, string]> = [];

  static status(code: number, description = ''): MessageHeaders {
    const h = new MessageHeaders();
    h.status = code;
    h.description = description;
    return h;
  }

  append(key: string, value: string): this {
    this.entries.push([key, value]);
    return this;
  }

  set(key: string, value: string): this {
    this.delete(key);
    return this.append(key, value);
  }

  delete(key: string): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i][0] === key) this.entries.splice(i, 1);
    }
  }

  /** First value for the key (exact match, then case-insensitive). */
  get(key: string): string | undefined {
    for (const [k, v] of this.entries) if (k === key) return v;
    const lower = key.toLowerCase();
    for (const [k, v] of this.entries) if (k.toLowerCase() === lower) return v;
    return undefined;
  }

  values(key: string): string[] {
    return this.entries.filter(([k]) => k === key).map(([, v]) => v);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  keys(): string[] {
    return [...new Set(this.entries.map(([k]) => k))];
  }

  /** Every [key, value] pair in order, repeats included. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries[Symbol.iterator]();
  }

  get size(): number {
    return this.entries.length;
  }

  toString(): string {
    let out = VERSION;
    if (this.status > 0) out += ` ${this.status}${this.description ? ` ${this.description}` : ''}`;
    out += CRLF;
    for (const [k, v] of this.entries) out += `${k}: ${v}${CRLF}`;
    return out + CRLF;
  }

  encode(): Buffer {
    return Buffer.from(this.toString(), 'utf8');
  }
}

export class HeaderParseError extends Error {
  constructor(detail: string) {
    super(`invalid NATS header block: ${detail}`);
    this.name = 'HeaderParseError';
  }
}

/** Parse the header block (the first `headerSize` bytes of an HPUB/HMSG message). */
export function parseHeaders(block: Buffer | Uint8Array): MessageHeaders {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf8');
  const lines = text.split(CRLF);
  const first = lines[0];
  if (!first.startsWith(VERSION)) throw new HeaderParseError(`expected ${VERSION}, got ${JSON.stringify(first.slice(0, 16))}`);
  const h = new MessageHeaders();
  const rest = first.slice(VERSION.length).trim();
  if (rest.length > 0) {
    const space = rest.indexOf(' ');
    const code = Number.parseInt(space < 0 ? rest : rest.slice(0, space), 10);
    if (Number.isFinite(code)) h.status = code;
    if (space >= 0) h.description = rest.slice(space + 1).trim();
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.length === 0) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HeaderParseError(`line without a key: ${JSON.stringify(line.slice(0, 32))}`);
    h.append(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return h;
}
