// Per-connection outbound batch. Control lines and small payloads are copied
// into one growing block so a burst of messages becomes a single socket write;
// large payloads are kept as slices (no copy). The written part of a block is
// never reused, because the socket may still hold it.

const BLOCK_SIZE = 64 * 1024;
/** Payloads at least this big are passed as their own slice instead of copied. */
const SLICE_THRESHOLD = 16 * 1024;

export class OutboundBuffer {
  private block: Buffer = Buffer.allocUnsafe(0);
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
   * MSG <subject> <sid> [reply] <size>\r\n<payload>\r\n, or HMSG with the header
   * size when headerSize >= 0 (then `message` starts with the header block).
   */
  appendMessage(subject: string, sid: string, reply: string | null, headerSize: number, message: Buffer): void {
    let line: string;
    if (headerSize < 0) {
      line = reply === null
        ? `MSG ${subject} ${sid} ${message.length}\r\n`
        : `MSG ${subject} ${sid} ${reply} ${message.length}\r\n`;
    } else {
      line = reply === null
        ? `HMSG ${subject} ${sid} ${headerSize} ${message.length}\r\n`
        : `HMSG ${subject} ${sid} ${reply} ${headerSize} ${message.length}\r\n`;
    }
    this.appendString(line);
    this.appendBytes(message);
    this.reserve(2);
    this.block[this.used++] = 13;
    this.block[this.used++] = 10;
    this.pending += 2;
  }

  /** Everything buffered so far, in order, ready for one (vectored) write. */
  take(): Buffer[] {
    this.sealBlock();
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
    this.sealBlock();
    this.block = Buffer.allocUnsafe(Math.max(BLOCK_SIZE, bytes));
    this.start = 0;
    this.used = 0;
  }
}
