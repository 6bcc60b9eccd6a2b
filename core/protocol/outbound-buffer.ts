// Per-connection outbound batch. Control lines and small payloads are copied
// into one growing block so a burst of messages becomes a single socket write;
// large payloads are kept as slices (no copy). The written part of a block is
// never reused, because the socket may still hold it.
//
// Blocks grow with the traffic: a block filled before the batch is taken
// doubles the next one (up to MAX_BLOCK), a batch under a quarter of the
// block size halves it (down to MIN_BLOCK). A subscriber taking 1 KiB
// messages at full speed then allocates a block per ~250 messages instead of
// per ~60 (each allocation is a native ArrayBuffer the GC tracks). Smaller
// than 16 KiB costs request/reply traffic (a few small messages per turn) an
// allocation too often.
//
// A connection starts with a 1 KiB block instead, a slice of Node's shared
// pool, and each block it uses up doubles the next until MIN_BLOCK: an idle
// connection (INFO, +OK, PONG) then holds 1 KiB, not a 16 KiB block of its own
// that is resident in full (measured: RSS per idle connection 16.3 -> 8.0 KB).

const MIN_BLOCK = 16 * 1024;
/** The first block: a connection's handshake and an idle one's PINGs fit, and it comes from Node's shared pool. */
const FIRST_BLOCK = 1024;
const MAX_BLOCK = 256 * 1024;
/** Payloads at least this big are passed as their own slice instead of copied. */
const SLICE_THRESHOLD = 16 * 1024;
/** "HMSG " + two decimal sizes with separators + CRLF, at most. */
const MAX_FIXED_LINE = 5 + 2 * 17 + 2;
/** Below this many bytes a JS loop beats a native copy call. */
const SMALL_COPY = 64;
/** Up to this many characters a JS loop beats a native UTF-8 encode (about 50 ns a call; measured on Node 20). */
const SMALL_TEXT = 24;

/** "<subject> <sid> " as bytes: the part of MSG/HMSG that is fixed per subscription and subject. */
export function encodeMessageTarget(subject: string, sid: string): Buffer {
  return Buffer.from(`${subject} ${sid} `, 'utf8');
}

/** source[start, end) into target at `at`; returns the end. */
function copyInto(source: Buffer, start: number, end: number, target: Buffer, at: number): number {
  const n = end - start;
  if (n >= SMALL_COPY) return at + source.copy(target, at, start, end);
  for (let i = 0; i < n; i++) target[at + i] = source[start + i];
  return at + n;
}

/** `text` as UTF-8 at `at`; returns the end. ASCII up to SMALL_TEXT chars in a JS loop, which beats the native encoder there. */
function writeText(target: Buffer, at: number, text: string): number {
  const n = text.length;
  if (n > SMALL_TEXT) return at + target.write(text, at, 'utf8');
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return at + i + target.write(text.slice(i), at + i, 'utf8');
    target[at + i] = c;
  }
  return at + n;
}

function writeDecimal(target: Buffer, at: number, value: number): number {
  if (value < 10) {
    target[at] = 48 + value;
    return at + 1;
  }
  let digits = 0;
  for (let v = value; v > 0; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = at + digits - 1; i >= at; i--) {
    target[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return at + digits;
}

export class OutboundBuffer {
  private block: Buffer = Buffer.allocUnsafe(0);
  /** Size of the next block (see the growth rule above). */
  private blockSize = FIRST_BLOCK;
  /** Start of the not-yet-taken region of `block`. */
  private start = 0;
  private used = 0;
  private readonly chunks: Buffer[] = [];
  private pending = 0;

  /** Bytes buffered and not yet taken for writing. */
  get length(): number {
    return this.pending;
  }

  appendString(text: string): void {
    this.reserve(text.length * 3);
    const written = this.block.write(text, this.used, 'utf8');
    this.used += written;
    this.pending += written;
  }

  appendBytes(bytes: Buffer): void {
    if (bytes.length >= SLICE_THRESHOLD) {
      this.sealBlock();
      this.chunks.push(bytes);
      this.pending += bytes.length;
      return;
    }
    this.reserve(bytes.length);
    bytes.copy(this.block, this.used);
    this.used += bytes.length;
    this.pending += bytes.length;
  }

  /**
   * MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n, or HMSG with the header size
   * when headerSize >= 0 (then the message starts with the header block). The message
   * is source[start, end): a range, so a publisher's input chunk needs no slice.
   * `target` is the pre-encoded "<subject> <sid> " of the subscription (see
   * encodeMessageTarget): written as bytes, it spares a string encode per message.
   */
  appendMessage(target: Buffer, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void {
    this.writeMessage(target, '', '', reply, headerSize, source, start, end);
  }

  /**
   * The same for a subject seen once (a request's reply inbox, a PubAck's): its
   * text is written straight into the block, with no target Buffer to allocate.
   */
  appendMessageTo(subject: string, sid: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void {
    this.writeMessage(null, subject, sid, reply, headerSize, source, start, end);
  }

  /** `target` when pre-encoded, else `subject` and `sid` as text. */
  private writeMessage(target: Buffer | null, subject: string, sid: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void {
    const size = end - start;
    const inline = size < SLICE_THRESHOLD;
    const targetBytes = target === null ? (subject.length + sid.length) * 3 + 2 : target.length;
    this.reserve(MAX_FIXED_LINE + targetBytes + (reply === null ? 0 : reply.length * 3) + (inline ? size + 2 : 0));
    const b = this.block;
    let at = this.used;
    if (headerSize >= 0) b[at++] = 72; // H
    b[at++] = 77; // M
    b[at++] = 83; // S
    b[at++] = 71; // G
    b[at++] = 32;
    if (target !== null) {
      at = copyInto(target, 0, target.length, b, at);
    } else {
      at = writeText(b, at, subject);
      b[at++] = 32;
      at = writeText(b, at, sid);
      b[at++] = 32;
    }
    if (reply !== null) {
      at += b.write(reply, at, 'utf8');
      b[at++] = 32;
    }
    if (headerSize >= 0) {
      at = writeDecimal(b, at, headerSize);
      b[at++] = 32;
    }
    at = writeDecimal(b, at, size);
    b[at++] = 13;
    b[at++] = 10;
    if (inline) {
      at = copyInto(source, start, end, b, at);
      b[at++] = 13;
      b[at++] = 10;
      this.pending += at - this.used;
      this.used = at;
      return;
    }
    this.pending += at - this.used;
    this.used = at;
    this.appendBytes(start === 0 && end === source.length ? source : source.subarray(start, end));
    this.reserve(2);
    this.block[this.used++] = 13;
    this.block[this.used++] = 10;
    this.pending += 2;
  }

  /** Everything buffered so far, in order, ready for one (vectored) write. */
  take(): Buffer[] {
    this.sealBlock();
    if (this.pending < this.blockSize / 4 && this.blockSize > MIN_BLOCK) this.blockSize /= 2;
    const out = this.chunks.splice(0, this.chunks.length);
    this.pending = 0;
    return out;
  }

  /** Drop everything buffered (the connection is gone). */
  clear(): void {
    this.chunks.length = 0;
    this.start = this.used;
    this.pending = 0;
  }

  private sealBlock(): void {
    if (this.used > this.start) {
      this.chunks.push(this.block.subarray(this.start, this.used));
      this.start = this.used;
    }
  }

  private reserve(bytes: number): void {
    if (this.block.length - this.used >= bytes) return;
    // Past the first blocks, the connection carries traffic: up to MIN_BLOCK at once.
    // A full block with its batch still untaken: the traffic outgrew the block size.
    if (this.block.length > 0 && this.blockSize < MIN_BLOCK) this.blockSize *= 2;
    else if (this.used > this.start && this.blockSize < MAX_BLOCK) this.blockSize *= 2;
    this.sealBlock();
    this.block = Buffer.allocUnsafe(Math.max(this.blockSize, bytes));
    this.start = 0;
    this.used = 0;
  }
}
