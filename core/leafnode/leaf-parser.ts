// Resumable parser for nats-server's leafnode protocol, both directions alike
// (the solicited and the accepting side send the same operations after the
// handshake): INFO, CONNECT, PING, PONG, +OK, -ERR, LS+, LS-, LMSG, and HMSG
// (a leaf message with headers: nats-server msgHeaderForRouteOrLeaf).
// Bytes in, typed operations out through a handler, no I/O (CONVENTIONS 1).
// A chunk may end anywhere; a payload that arrives whole is passed on as a
// slice of its chunk, one split across chunks is gathered into one buffer.
//
// Argument layouts follow nats-server server/leafnode.go:
//   LS+ <subject> [<queue> <weight>]          (processLeafSub)
//   LS- <subject> [<queue>]                   (processLeafUnsub: the key)
//   LMSG <subject> [<reply>] <size>           (processLeafMsgArgs)
//   LMSG <subject> + <reply> <queue>... <size>
//   LMSG <subject> | <queue>... <size>
//   HMSG the same with <header size> before <size>

export interface LeafOpHandler {
  onInfo(json: string): void;
  onConnect(json: string): void;
  onPing(): void;
  onPong(): void;
  onError(text: string): void;
  /** LS+: interest of the other side; weight is 1 for a plain subscription. */
  onSub(subject: string, queue: string | null, weight: number): void;
  onUnsub(subject: string, queue: string | null): void;
  /**
   * LMSG (headerSize -1) or HMSG. `queues` names the queue groups the sender
   * chose this server for (empty: plain subscribers only, or none given).
   * `message` may be a slice of the input chunk: keep it, do not mutate it.
   */
  onMsg(subject: string, reply: string | null, queues: readonly string[], headerSize: number, message: Buffer): void;
  /** A malformed operation: the parser has stopped. */
  onParseError(error: LeafProtocolError): void;
}

/** A leafnode protocol violation, with the line that caused it. */
export class LeafProtocolError extends Error {
  constructor(readonly detail: string, options?: { cause?: unknown }) {
    super(`leafnode protocol error: ${detail}`, options);
    this.name = 'LeafProtocolError';
  }
}

const CR = 13;
const LF = 10;
/** CONNECT and INFO carry JWTs and URL lists; other lines are held to max_control_line. */
const MAX_JSON_LINE = 1024 * 1024;
const NO_QUEUES: readonly string[] = [];

interface PendingMsg {
  subject: string;
  reply: string | null;
  queues: readonly string[];
  headerSize: number;
  size: number;
}

export class LeafParser {
  private halted = false;
  /** Set by pause(): input is kept, unparsed, until resume(). */
  private held: Buffer | null = null;
  private paused = false;
  private line: Buffer | null = null;
  private msg: PendingMsg | null = null;
  private gather: Buffer | null = null;
  private gathered = 0;

  constructor(private readonly handler: LeafOpHandler, private readonly limits: { maxControlLine: number; maxPayload: number }) {}

  halt(): void {
    this.halted = true;
    this.gather = null;
    this.line = null;
  }

  /**
   * Stop between operations (called from a handler): the rest of this chunk and
   * later input wait for resume(). The accepting side holds what a leaf sent
   * after CONNECT until its credentials are checked.
   */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = null;
    if (held !== null) this.parse(held);
  }

  parse(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.halted) {
      if (this.paused) {
        const rest = chunk.subarray(i);
        this.held = this.held === null ? Buffer.from(rest) : Buffer.concat([this.held, rest]);
        return;
      }
      if (this.msg !== null) {
        i = this.payload(chunk, i);
        continue;
      }
      const nl = chunk.indexOf(LF, i);
      if (nl < 0) {
        this.line = this.line === null ? Buffer.from(chunk.subarray(i)) : Buffer.concat([this.line, chunk.subarray(i)]);
        if (this.line.length > MAX_JSON_LINE) this.fail(`control line of ${this.line.length} bytes`);
        return;
      }
      let text: string;
      if (this.line !== null) {
        text = Buffer.concat([this.line, chunk.subarray(i, nl)]).toString('utf8');
        this.line = null;
      } else {
        text = chunk.toString('utf8', i, nl);
      }
      i = nl + 1;
      this.control(text.charCodeAt(text.length - 1) === CR ? text.slice(0, -1) : text);
    }
  }

  private control(line: string): void {
    const space = line.search(/[ \t]/);
    const op = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const rest = space < 0 ? '' : line.slice(space + 1).trim();
    if (op !== 'INFO' && op !== 'CONNECT' && line.length > this.limits.maxControlLine) return this.fail(`control line of ${line.length} bytes`);
    switch (op) {
      case 'INFO':
        return this.handler.onInfo(rest);
      case 'CONNECT':
        return this.handler.onConnect(rest);
      case 'PING':
        return this.handler.onPing();
      case 'PONG':
        return this.handler.onPong();
      case '+OK':
        return;
      case '-ERR':
        return this.handler.onError(rest.replace(/^'(.*)'$/, '$1'));
      case 'LS+':
        return this.sub(rest);
      case 'LS-':
        return this.unsub(rest);
      case 'LMSG':
        return this.msgArgs(rest, false);
      case 'HMSG':
        return this.msgArgs(rest, true);
      default:
        return this.fail(`unknown operation ${JSON.stringify(line.slice(0, 16))}`);
    }
  }

  private sub(rest: string): void {
    const args = split(rest);
    if (args.length === 1) return this.handler.onSub(args[0], null, 1);
    if (args.length === 3) {
      const weight = size(args[2]);
      if (weight < 0) return this.fail(`LS+ ${rest}: bad queue weight`);
      return this.handler.onSub(args[0], args[1], weight);
    }
    this.fail(`LS+ ${rest}: takes 1 or 3 arguments`);
  }

  private unsub(rest: string): void {
    const args = split(rest);
    if (args.length === 1 || args.length === 2) return this.handler.onUnsub(args[0], args[1] ?? null);
    this.fail(`LS- ${rest}: takes 1 or 2 arguments`);
  }

  private msgArgs(rest: string, headers: boolean): void {
    const args = split(rest);
    const sizes = headers ? 2 : 1;
    if (args.length < 1 + sizes) return this.fail(`${headers ? 'HMSG' : 'LMSG'} ${rest}: too few arguments`);
    const middle = args.slice(1, args.length - sizes);
    let reply: string | null = null;
    let queues = NO_QUEUES;
    if (middle.length === 1) reply = middle[0];
    else if (middle.length > 1) {
      if (middle[0] === '+') {
        reply = middle[1];
        queues = middle.slice(2);
      } else if (middle[0] === '|') queues = middle.slice(1);
      else return this.fail(`${rest}: bad or missing reply indicator`);
    }
    const total = size(args[args.length - 1]);
    const headerSize = headers ? size(args[args.length - 2]) : -1;
    if (total < 0 || (headers && (headerSize < 0 || headerSize > total))) return this.fail(`${rest}: bad sizes`);
    if (total > this.limits.maxPayload) return this.fail(`${rest}: ${total} bytes > max_payload ${this.limits.maxPayload}`);
    this.msg = { subject: args[0], reply, queues, headerSize, size: total };
  }

  private payload(chunk: Buffer, i: number): number {
    const msg = this.msg as PendingMsg;
    const need = msg.size + 2;
    if (this.gather === null && chunk.length - i >= need) {
      this.deliver(msg, chunk, i);
      return i + need;
    }
    if (this.gather === null) {
      this.gather = Buffer.allocUnsafe(need);
      this.gathered = 0;
    }
    const take = Math.min(need - this.gathered, chunk.length - i);
    chunk.copy(this.gather, this.gathered, i, i + take);
    this.gathered += take;
    if (this.gathered === need) {
      const whole = this.gather;
      this.gather = null;
      this.deliver(msg, whole, 0);
    }
    return i + take;
  }

  private deliver(msg: PendingMsg, buf: Buffer, at: number): void {
    this.msg = null;
    if (buf[at + msg.size] !== CR || buf[at + msg.size + 1] !== LF) return this.fail(`payload of ${msg.subject} not followed by CRLF`);
    this.handler.onMsg(msg.subject, msg.reply, msg.queues, msg.headerSize, buf.subarray(at, at + msg.size));
  }

  private fail(detail: string): void {
    this.halt();
    this.handler.onParseError(new LeafProtocolError(detail));
  }
}

function split(rest: string): string[] {
  return rest === '' ? [] : rest.split(/[ \t]+/);
}

/** Decimal digits only; -1 otherwise. */
function size(text: string): number {
  return /^\d{1,15}$/.test(text) ? Number(text) : -1;
}
