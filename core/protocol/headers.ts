// NATS message headers (ADR-4): a `NATS/1.0[ <code>[ <description>]]` status line,
// then `Key: value` lines, then an empty line. Keys keep their case; a key may
// repeat (multi-value). Lookups are exact first, then case-insensitive, as the
// official clients do.
//
// Every stored JetStream publish is parsed and looked up about seven times
// (Nats-Msg-Id, the Nats-Expected-* family, Nats-Rollup, Nats-Incr), mostly for
// keys that are absent, so both parse and lookup avoid per-line allocations.

const CRLF = '\r\n';
const VERSION = 'NATS/1.0';

export class MessageHeaders {
  status = 0;
  description = '';
  // Parallel arrays rather than [key, value] pairs: one allocation per header less.
  private readonly names: string[] = [];
  private readonly texts: string[] = [];

  static status(code: number, description = ''): MessageHeaders {
    const h = new MessageHeaders();
    h.status = code;
    h.description = description;
    return h;
  }

  append(key: string, value: string): this {
    this.names.push(key);
    this.texts.push(value);
    return this;
  }

  set(key: string, value: string): this {
    this.delete(key);
    return this.append(key, value);
  }

  delete(key: string): void {
    for (let i = this.names.length - 1; i >= 0; i--) {
      if (this.names[i] === key) {
        this.names.splice(i, 1);
        this.texts.splice(i, 1);
      }
    }
  }

  /** First value for the key (exact match, then case-insensitive). */
  get(key: string): string | undefined {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === key) return this.texts[i];
    for (let i = 0; i < names.length; i++) if (equalsIgnoringCase(names[i], key)) return this.texts[i];
    return undefined;
  }

  values(key: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) if (this.names[i] === key) out.push(this.texts[i]);
    return out;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  keys(): string[] {
    return [...new Set(this.names)];
  }

  /** Every [key, value] pair in order, repeats included. */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.texts[i]];
  }

  get size(): number {
    return this.names.length;
  }

  toString(): string {
    let out = VERSION;
    if (this.status > 0) out += ` ${this.status}${this.description ? ` ${this.description}` : ''}`;
    out += CRLF;
    for (let i = 0; i < this.names.length; i++) out += `${this.names[i]}: ${this.texts[i]}${CRLF}`;
    return out + CRLF;
  }

  encode(): Buffer {
    return Buffer.from(this.toString(), 'utf8');
  }
}

/**
 * `a.toLowerCase() === b.toLowerCase()` without building either string. ASCII
 * is compared in place; anything else falls back to toLowerCase. Lengths that
 * differ can only match through U+0130, the one character whose lower case is
 * longer (two code units): a get() mostly asks for absent keys of other lengths.
 */
function equalsIgnoringCase(a: string, b: string): boolean {
  if (a.length !== b.length) return (a.includes('\u0130') || b.includes('\u0130')) && a.toLowerCase() === b.toLowerCase();
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x > 0x7f || y > 0x7f) return a.toLowerCase() === b.toLowerCase();
    if (x >= 0x41 && x <= 0x5a) x += 0x20;
    if (y >= 0x41 && y <= 0x5a) y += 0x20;
    if (x !== y) return false;
  }
  return true;
}

export class HeaderParseError extends Error {
  constructor(detail: string) {
    super(`invalid NATS header block: ${detail}`);
    this.name = 'HeaderParseError';
  }
}

/** Could String.prototype.trim remove this character? (Its whitespace is all <= U+0020 or >= U+00A0.) */
function mayTrim(code: number): boolean {
  return code <= 0x20 || code >= 0xa0;
}

/** Does text[start, end) begin with `lowerPrefix` (ASCII lower case), ignoring ASCII case? */
function startsWithIgnoringCase(text: string, start: number, end: number, lowerPrefix: string): boolean {
  if (end - start < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++) {
    let c = text.charCodeAt(start + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Parse the header block (the first `headerSize` bytes of an HPUB/HMSG message).
 * With `keyPrefix` (ASCII, lower case) only the lines whose key starts with it,
 * ignoring case, are kept; every line is still validated. The result then
 * answers get() for keys with that prefix exactly as the whole block would:
 * no non-ASCII character lowers to an ASCII letter other than 'k' (U+212A),
 * so an ASCII prefix without 'k' cannot be reached through toLowerCase.
 */
export function parseHeaders(block: Buffer | Uint8Array, keyPrefix = ''): MessageHeaders {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('utf8');
  let end = text.indexOf(CRLF);
  if (end < 0) end = text.length;
  if (!text.startsWith(VERSION)) throw new HeaderParseError(`expected ${VERSION}, got ${JSON.stringify(text.slice(0, Math.min(end, 16)))}`);
  const h = new MessageHeaders();
  if (end > VERSION.length) {
    const rest = text.slice(VERSION.length, end).trim();
    if (rest.length > 0) {
      const space = rest.indexOf(' ');
      const code = Number.parseInt(space < 0 ? rest : rest.slice(0, space), 10);
      if (Number.isFinite(code)) h.status = code;
      if (space >= 0) h.description = rest.slice(space + 1).trim();
    }
  }
  // Lines are split on CRLF only (a lone CR or LF stays inside its line); empty lines are skipped.
  for (let start = end + 2; start < text.length; start = end + 2) {
    end = text.indexOf(CRLF, start);
    if (end < 0) end = text.length;
    if (end === start) continue;
    const colon = text.indexOf(':', start);
    if (colon <= start || colon >= end) throw new HeaderParseError(`line without a key: ${JSON.stringify(text.slice(start, Math.min(end, start + 32)))}`);
    if (keyPrefix !== '' && !startsWithIgnoringCase(text, start, colon, keyPrefix)) continue;
    let from = colon + 1;
    // The usual single space after the colon is skipped here; anything else trim() decides.
    if (from < end && text.charCodeAt(from) === 0x20) from++;
    let value = text.slice(from, end);
    if (value.length > 0 && (mayTrim(value.charCodeAt(0)) || mayTrim(value.charCodeAt(value.length - 1)))) value = value.trim();
    h.append(text.slice(start, colon), value);
  }
  return h;
}

/**
 * A stored header block (or none) with `lines` ("Key: value\r\n" each) added
 * before its closing empty line, as nats-server's genHeader does when it adds
 * Nats-Msg-Size, Nats-Pin-Id or the direct-get headers to a stored message.
 */
export function appendHeaderLines(header: Buffer | null, lines: string): Buffer {
  if (header === null || header.length < 4) return Buffer.from(`${VERSION}${CRLF}${lines}${CRLF}`);
  return Buffer.concat([header.subarray(0, header.length - 2), Buffer.from(`${lines}${CRLF}`)]);
}
