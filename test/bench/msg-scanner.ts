// Counts MSG/HMSG deliveries in a server's byte stream without decoding them:
// one native indexOf per control line, the size read backwards from the line's
// end, the payload skipped by length (never copied, never split into strings).
// Resumable: a chunk may end anywhere, inside a control line or a payload.

const CR = 13;
const LF = 10;
const SPACE = 32;
const UPPER_M = 0x4d;
const UPPER_H = 0x48;

export interface ScannerHooks {
  /** A MSG/HMSG control line buf[start, end) (CRLF excluded), before its payload arrives. */
  onMsgLine?(buf: Buffer, start: number, end: number): void;
  /** Any other control line (PING, PONG, +OK, -ERR, INFO), as text. */
  onControl(line: string): void;
}

export class MsgScanner {
  /** Complete messages (control line and whole payload) seen so far. */
  count = 0;
  /** Payload bytes plus CRLF still to skip for the message in flight. */
  private skip = 0;
  /** A control line split across chunks. */
  private partial: Buffer | null = null;

  constructor(private readonly hooks: ScannerHooks) {}

  feed(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    if (this.skip > 0) {
      if (this.skip > n) {
        this.skip -= n;
        return;
      }
      i = this.skip;
      this.skip = 0;
      this.count++;
    }
    while (i < n) {
      const nl = chunk.indexOf(LF, i);
      if (nl < 0) {
        const rest = chunk.subarray(i);
        this.partial = this.partial === null ? Buffer.from(rest) : Buffer.concat([this.partial, rest]);
        return;
      }
      let buf = chunk;
      let start = i;
      let end = nl;
      if (this.partial !== null) {
        buf = Buffer.concat([this.partial, chunk.subarray(i, nl)]);
        start = 0;
        end = buf.length;
        this.partial = null;
      }
      i = nl + 1;
      if (end > start && buf[end - 1] === CR) end--;
      const op = buf[start];
      if (op !== UPPER_M && op !== UPPER_H) {
        this.hooks.onControl(buf.toString('latin1', start, end));
        continue;
      }
      // MSG <subject> <sid> [reply] <size> | HMSG ... <header size> <total size>: total is last.
      this.hooks.onMsgLine?.(buf, start, end);
      const need = lastNumber(buf, start, end) + 2;
      if (n - i >= need) {
        i += need;
        this.count++;
      } else {
        this.skip = need - (n - i);
        return;
      }
    }
  }
}

/** The decimal number ending at buf[end - 1]. */
function lastNumber(buf: Buffer, start: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let k = end - 1; k > start && buf[k] !== SPACE; k--) {
    value += (buf[k] - 48) * scale;
    scale *= 10;
  }
  return value;
}

/** The space-separated tokens of a control line, for the rare callers that need them. */
export function lineTokens(buf: Buffer, start: number, end: number): string[] {
  return buf.toString('latin1', start, end).split(' ');
}
