// Resumable byte-level parser for what a NATS client sends to a server
// (PUB, HPUB, SUB, UNSUB, CONNECT, PING, PONG, +OK, -ERR, INFO).
// Bytes in, typed operations out through a handler; no I/O. A chunk may end
// anywhere, including inside a control line or a payload: state carries over.
// A payload that arrives whole in one chunk is passed on as a range of it (no
// copy, not even a slice: the router slices only when someone receives it);
// only a payload split across chunks is gathered into one buffer.
//
// PUB and HPUB lines as clients write them (upper case, single spaces, CRLF,
// whole in the chunk) take a fast path that finds the line's end and its
// tokens in one pass; any other shape, and every error, goes the general way
// (native indexOf for the line end, then tokenize), so both give the same result.

import { NatsErrorCode, NatsProtocolError } from './errors.ts';

export interface ClientOpHandler {
  onConnect(json: string): void;
  /**
   * PUB (headerSize -1) or HPUB (headerSize = bytes of the header block at the start
   * of the message). The message is `source[start, end)`; `source` may be the input
   * chunk: keep it, do not mutate it.
   */
  onPub(subject: string, reply: string | null, headerSize: number, source: Buffer, start: number, end: number): void;
  onSub(subject: string, queue: string | null, sid: string): void;
  onUnsub(sid: string, max: number): void;
  onPing(): void;
  onPong(): void;
  /** A fatal error: the parser has stopped and will accept no more input. */
  onParseError(error: NatsProtocolError): void;
}

export interface ParserLimits {
  maxControlLine: number;
  maxPayload: number;
}

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;
/** CONNECT may carry a JWT and signature; nats-server does not hold it to max_control_line. */
const MAX_CONNECT_LINE = 1024 * 1024;
const MAX_ARGS = 6;
const SUBJECT_CACHE_MAX = 128;

const enum State {
  Control = 0,
  Payload = 1,
  Halted = 2,
}

export class ClientParser {
  private state: State = State.Control;
  /** Partial control line carried across chunks. */
  private line: Buffer = Buffer.allocUnsafe(256);
  private lineLength = 0;
  /** Pending PUB/HPUB while its payload arrives. */
  private pubSubject = '';
  /** The last PUB subject's bytes and string: publishers mostly repeat subjects, so reuse the string. */
  private readonly lastSubjectBytes = Buffer.allocUnsafe(SUBJECT_CACHE_MAX);
  private lastSubjectLength = -1;
  private lastSubject = '';
  private pubReply: string | null = null;
  private pubHeaderSize = -1;
  private pubSize = 0;
  /** Gathering buffer for a payload split across chunks (size + CRLF). */
  private gather: Buffer | null = null;
  private gathered = 0;
  /** Token boundaries of the current control line: [start0, end0, start1, end1, ...]. */
  private readonly tokens = new Int32Array(MAX_ARGS * 2);

  constructor(private readonly handler: ClientOpHandler, private readonly limits: ParserLimits) {}

  /** Stop parsing (the connection is closing); later input is ignored. */
  halt(): void {
    this.state = State.Halted;
    this.gather = null;
  }

  get halted(): boolean {
    return this.state === State.Halted;
  }

  parse(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === State.Control) {
        if (this.lineLength === 0) {
          const next = this.fastPub(chunk, i, n);
          if (next >= 0) {
            i = next;
            continue;
          }
        }
        const nl = chunk.indexOf(LF, i);
        if (nl < 0) {
          this.appendLine(chunk, i, n);
          return;
        }
        if (this.lineLength > 0) {
          if (!this.appendLine(chunk, i, nl)) return;
          i = nl + 1;
          const line = this.line;
          const len = this.lineLength;
          this.lineLength = 0;
          this.control(line, 0, len);
        } else {
          const start = i;
          i = nl + 1;
          if (!this.checkLineLength(chunk, start, nl - start)) return;
          this.control(chunk, start, nl);
        }
      } else if (this.state === State.Payload) {
        i = this.payload(chunk, i);
      } else {
        return;
      }
    }
  }

  private appendLine(chunk: Buffer, from: number, to: number): boolean {
    const total = this.lineLength + (to - from);
    if (total > this.line.length) {
      const bigger = Buffer.allocUnsafe(Math.max(total, this.line.length * 2));
      this.line.copy(bigger, 0, 0, this.lineLength);
      this.line = bigger;
    }
    chunk.copy(this.line, this.lineLength, from, to);
    this.lineLength = total;
    return this.checkLineLength(this.line, 0, total);
  }

  /** Enforce max_control_line; CONNECT gets a larger allowance. */
  private checkLineLength(buf: Buffer, start: number, length: number): boolean {
    if (length <= this.limits.maxControlLine) return true;
    if (length <= MAX_CONNECT_LINE && startsWithOp(buf, start, 'CONNECT')) return true;
    this.fail(NatsErrorCode.MaxControlLine, `control line of ${length} bytes`);
    return false;
  }

  /**
   * A whole `PUB`/`HPUB` line at buf[i] in the plain shape clients write (upper case, one
   * space between tokens, CRLF): tokens into this.tokens as tokenize would put them, then
   * pub(). Returns the offset after the LF, or -1 when the line has another shape or is
   * not whole in this chunk (the general path then handles it, errors included).
   */
  private fastPub(buf: Buffer, i: number, n: number): number {
    let p = i;
    const headers = buf[p] === 0x48; // H
    if (headers) p++;
    if (p + 4 > n || buf[p] !== 0x50 || buf[p + 1] !== 0x55 || buf[p + 2] !== 0x42 || buf[p + 3] !== SPACE) return -1;
    const t = this.tokens;
    t[0] = i;
    t[1] = p + 3;
    p += 4;
    // A line longer than max_control_line is the general path's error to report.
    const limit = Math.min(n - 1, i + this.limits.maxControlLine);
    let count = 1;
    let s = p;
    for (;;) {
      if (p >= limit) return -1;
      const c = buf[p];
      if (c === SPACE || c === CR) {
        if (p === s || count === MAX_ARGS) return -1;
        t[count * 2] = s;
        t[count * 2 + 1] = p;
        count++;
        if (c === CR) break;
        s = ++p;
      } else if (c === TAB || c === LF) {
        return -1;
      } else {
        p++;
      }
    }
    if (buf[p + 1] !== LF) return -1;
    this.pub(buf, count, headers);
    return this.state === State.Payload ? this.payload(buf, p + 2) : p + 2;
  }

  /** Process one complete control line buf[start, end) (end at the LF). */
  private control(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === CR) end--;
    const count = this.tokenize(buf, start, end);
    if (count === 0) {
      // An empty line: nats-server treats this as an unknown operation.
      this.fail(NatsErrorCode.UnknownOperation, 'empty control line');
      return;
    }
    const t = this.tokens;
    const opLen = t[1] - t[0];
    const c0 = buf[t[0]] | 0x20;
    switch (c0) {
      case 0x70: // p
        if (opLen === 3 && matchOp(buf, t[0], 'PUB')) return this.pub(buf, count, false);
        if (opLen === 4 && matchOp(buf, t[0], 'PING')) return count === 1 ? this.handler.onPing() : this.fail(NatsErrorCode.ParserError, 'PING takes no arguments');
        if (opLen === 4 && matchOp(buf, t[0], 'PONG')) return count === 1 ? this.handler.onPong() : this.fail(NatsErrorCode.ParserError, 'PONG takes no arguments');
        break;
      case 0x68: // h
        if (opLen === 4 && matchOp(buf, t[0], 'HPUB')) return this.pub(buf, count, true);
        break;
      case 0x73: // s
        if (opLen === 3 && matchOp(buf, t[0], 'SUB')) return this.sub(buf, count);
        break;
      case 0x75: // u
        if (opLen === 5 && matchOp(buf, t[0], 'UNSUB')) return this.unsub(buf, count);
        break;
      case 0x63: // c
        if (opLen === 7 && matchOp(buf, t[0], 'CONNECT')) {
          if (count < 2) return this.fail(NatsErrorCode.ParserError, 'CONNECT without options');
          return this.handler.onConnect(buf.toString('utf8', t[2], end));
        }
        break;
      case 0x69: // i: INFO from a client is accepted and ignored, as nats-server does.
        if (opLen === 4 && matchOp(buf, t[0], 'INFO')) return;
        break;
      case 0x2b: // +OK
        if (opLen === 3 && (buf[t[0] + 1] | 0x20) === 0x6f && (buf[t[0] + 2] | 0x20) === 0x6b) return;
        break;
      case 0x2d: // -ERR
        if (opLen === 4 && matchOp(buf, t[0] + 1, 'ERR')) return;
        break;
    }
    this.fail(NatsErrorCode.UnknownOperation, `operation ${JSON.stringify(buf.toString('latin1', t[0], Math.min(t[1], t[0] + 16)))}`);
  }

  /** PUB <subject> [reply] <size> | HPUB <subject> [reply] <header size> <total size> */
  private pub(buf: Buffer, count: number, headers: boolean): void {
    const t = this.tokens;
    const fixed = headers ? 4 : 3;
    if (count !== fixed && count !== fixed + 1) return this.fail(NatsErrorCode.ParserError, `${headers ? 'HPUB' : 'PUB'} takes ${fixed - 1} or ${fixed} arguments`);
    const hasReply = count === fixed + 1;
    const sizeIndex = count - 1;
    const size = parseSize(buf, t[sizeIndex * 2], t[sizeIndex * 2 + 1]);
    let headerSize = -1;
    if (headers) {
      headerSize = parseSize(buf, t[(sizeIndex - 1) * 2], t[(sizeIndex - 1) * 2 + 1]);
      if (headerSize < 0 || size < 0 || headerSize > size) return this.fail(NatsErrorCode.ParserError, 'bad HPUB sizes');
    }
    if (size < 0) return this.fail(NatsErrorCode.ParserError, 'bad PUB size');
    if (size > this.limits.maxPayload) return this.fail(NatsErrorCode.MaxPayload, `${size} bytes > max_payload ${this.limits.maxPayload}`);
    this.pubSubject = this.subjectString(buf, t[2], t[3]);
    this.pubReply = hasReply ? buf.toString('utf8', t[4], t[5]) : null;
    this.pubHeaderSize = headerSize;
    this.pubSize = size;
    this.state = State.Payload;
  }

  /** Consume payload bytes from chunk at i; returns the new offset. */
  private payload(chunk: Buffer, i: number): number {
    const size = this.pubSize;
    const need = size + 2;
    if (this.gather === null && chunk.length - i >= need) {
      if (chunk[i + size] !== CR || chunk[i + size + 1] !== LF) {
        this.fail(NatsErrorCode.UnknownOperation, 'payload not followed by CRLF');
        return chunk.length;
      }
      this.state = State.Control;
      this.handler.onPub(this.pubSubject, this.pubReply, this.pubHeaderSize, chunk, i, i + size);
      return i + need;
    }
    if (this.gather === null) {
      this.gather = Buffer.allocUnsafe(need);
      this.gathered = 0;
    }
    const take = Math.min(need - this.gathered, chunk.length - i);
    chunk.copy(this.gather, this.gathered, i, i + take);
    this.gathered += take;
    if (this.gathered < need) return i + take;
    const message = this.gather;
    this.gather = null;
    if (message[size] !== CR || message[size + 1] !== LF) {
      this.fail(NatsErrorCode.UnknownOperation, 'payload not followed by CRLF');
      return chunk.length;
    }
    this.state = State.Control;
    this.handler.onPub(this.pubSubject, this.pubReply, this.pubHeaderSize, message, 0, size);
    return i + take;
  }

  /** SUB <subject> [queue] <sid> */
  private sub(buf: Buffer, count: number): void {
    if (count !== 3 && count !== 4) return this.fail(NatsErrorCode.ParserError, 'SUB takes 2 or 3 arguments');
    const t = this.tokens;
    const subject = buf.toString('utf8', t[2], t[3]);
    const queue = count === 4 ? buf.toString('utf8', t[4], t[5]) : null;
    const s = (count - 1) * 2;
    this.handler.onSub(subject, queue, buf.toString('utf8', t[s], t[s + 1]));
  }

  /** UNSUB <sid> [max] */
  private unsub(buf: Buffer, count: number): void {
    const t = this.tokens;
    if (count !== 2 && count !== 3) return this.fail(NatsErrorCode.UnknownOperation, 'UNSUB takes 1 or 2 arguments');
    let max = 0;
    if (count === 3) {
      max = parseSize(buf, t[4], t[5]);
      if (max < 0) return this.fail(NatsErrorCode.ParserError, 'bad UNSUB max');
    }
    this.handler.onUnsub(buf.toString('utf8', t[2], t[3]), max);
  }

  private subjectString(buf: Buffer, start: number, end: number): string {
    const len = end - start;
    if (len === this.lastSubjectLength) {
      const last = this.lastSubjectBytes;
      let k = 0;
      while (k < len && buf[start + k] === last[k]) k++;
      if (k === len) return this.lastSubject;
    }
    const subject = buf.toString('utf8', start, end);
    if (len <= SUBJECT_CACHE_MAX) {
      buf.copy(this.lastSubjectBytes, 0, start, end);
      this.lastSubjectLength = len;
      this.lastSubject = subject;
    }
    return subject;
  }

  /** Split on spaces/tabs into this.tokens; returns the token count (at most MAX_ARGS+1 reported). */
  private tokenize(buf: Buffer, start: number, end: number): number {
    const t = this.tokens;
    let count = 0;
    let i = start;
    while (i < end) {
      while (i < end && (buf[i] === SPACE || buf[i] === TAB)) i++;
      if (i >= end) break;
      const s = i;
      while (i < end && buf[i] !== SPACE && buf[i] !== TAB) i++;
      if (count === MAX_ARGS) return MAX_ARGS + 1;
      t[count * 2] = s;
      t[count * 2 + 1] = i;
      count++;
    }
    return count;
  }

  private fail(code: NatsErrorCode, detail: string): void {
    this.halt();
    this.handler.onParseError(new NatsProtocolError(code, { detail }));
  }
}

/** Case-insensitive compare of an ASCII op name at buf[at]. */
function matchOp(buf: Buffer, at: number, op: string): boolean {
  for (let k = 0; k < op.length; k++) {
    if ((buf[at + k] & 0xdf) !== op.charCodeAt(k)) return false;
  }
  return true;
}

function startsWithOp(buf: Buffer, at: number, op: string): boolean {
  return buf.length - at >= op.length && matchOp(buf, at, op);
}

/** Decimal digits only; -1 when empty, not a number or beyond 2^53. */
function parseSize(buf: Buffer, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
