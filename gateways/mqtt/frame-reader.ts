// Splits an MQTT byte stream into whole control packets before mqtt-packet
// decodes them, so the maximum packet size is enforced from the fixed header
// alone (an oversize packet is refused before its body is buffered) and a
// decoding error is attributed to exactly one packet. The hot packets (acks,
// PINGREQ, PUBLISH without properties) take a hand-written path (fast-codec.ts).
// Pure and resumable: bytes in, whole frames out, any split gives the same frames.
// Pull-based (push() stores, next() decodes one), so the connection decides when
// to stop framing: input waits as raw bytes, never as a queue of decoded packets.
// What it holds is bounded by the bytes received: a frame split across chunks is
// copied into a buffer that grows with what arrived (a huge declared length costs
// nothing), and each byte is copied at most a few times, whatever the chunking.

import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { fastDecode } from './fast-codec.ts';
import { MqttProtocolError, ReasonCode } from './reason-codes.ts';

/**
 * mqtt-packet parsers shared by all connections, one per protocol version and
 * one for CONNECT: each is fed exactly one whole frame at a time and emits
 * synchronously, so it holds no state between frames (it resets itself after
 * an error). Parsing a CONNECT makes the packet the parser's settings, so the
 * CONNECT parser gets empty settings back after each one (it reads the version
 * from the packet, and must not keep a client's password); a parser made per
 * CONNECT was a tenth of the CONNECT path's CPU (issue 20, --cpu-prof).
 */
type DecoderKind = 4 | 5 | 'connect';
const sharedDecoders = new Map<DecoderKind, Decoder>();

class Decoder {
  private readonly parser;
  private decoded: Packet | null = null;
  private error: Error | null = null;

  constructor(private readonly kind: DecoderKind) {
    this.parser = mqttPacket.parser({ protocolVersion: kind === 'connect' ? 4 : kind });
    this.parser.on('packet', (packet: Packet) => {
      this.decoded = packet;
    });
    this.parser.on('error', (error: Error) => {
      this.error = error;
    });
  }

  static for(frame: Buffer, protocolVersion: 4 | 5): Decoder {
    const kind = frame[0] >> 4 === 1 ? 'connect' : protocolVersion;
    let d = sharedDecoders.get(kind);
    if (d === undefined) sharedDecoders.set(kind, (d = new Decoder(kind)));
    return d;
  }

  decode(frame: Buffer): Packet {
    this.decoded = null;
    this.error = null;
    this.parser.parse(frame);
    if (this.kind === 'connect') (this.parser as unknown as { settings: object }).settings = {};
    const error = this.error as Error | null;
    const decoded = this.decoded as Packet | null;
    this.decoded = null;
    this.error = null;
    // A parser that failed, or still waits for bytes, is never shared again.
    if (error !== null || decoded === null) {
      for (const [kind, d] of sharedDecoders) if (d === this) sharedDecoders.delete(kind);
    }
    if (error !== null) throw new MqttProtocolError(ReasonCode.MalformedPacket, `malformed packet: ${error.message}`, { cause: error });
    if (decoded === null) throw new MqttProtocolError(ReasonCode.MalformedPacket, 'malformed packet: incomplete after its declared length');
    return decoded;
  }
}

const VERSION_4 = { protocolVersion: 4 } as const;

/** A partial frame starts at this capacity and doubles: memory follows the bytes received, never a declared length. */
const INITIAL_PARTIAL_BYTES = 256;

export interface FrameLimits {
  /** Whole-packet limit in bytes (fixed header included) once CONNECT is in. */
  maxPacketSize: number;
  /** The same limit for the first packet (CONNECT): a connection nobody knows yet holds little. */
  maxConnectPacketSize: number;
}

export class FrameReader {
  /** Input not yet framed: whole chunks as they came (a chunk is never copied whole). */
  private readonly input: Buffer[] = [];
  private inputBytes = 0;
  /** A frame that spans chunks, copied in as its bytes arrive; its header length is 0 until its length is known. */
  private partial: Buffer | null = null;
  private partialLength = 0;
  private partialTotal = 0;
  private partialHeaderLength = 0;
  /** Until the first packet is in, it must be a CONNECT [MQTT-3.1.0-1]: fail on its first byte. */
  private awaitingConnect = true;

  /**
   * `connection` says the protocol version once CONNECT set it (an object, not a
   * closure: one reader per connection, so per-connection allocations count).
   */
  constructor(private readonly limits: FrameLimits, private readonly connection: { readonly protocolVersion: 4 | 5 } = VERSION_4) {}

  /** Bytes held: input not yet framed plus the partial frame's buffer. */
  get bufferedBytes(): number {
    return this.inputBytes + (this.partial?.length ?? 0);
  }

  /** Take bytes in; nothing is decoded until next() is called. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.input.push(chunk);
    this.inputBytes += chunk.length;
  }

  /**
   * The next whole packet, or null until more bytes arrive. Throws
   * MqttProtocolError for a malformed or oversize packet (refused from its fixed
   * header, before its body is buffered); the caller ends the connection.
   */
  next(): Packet | null {
    const frame = this.partial === null ? this.frameFromInput() : this.fillPartial();
    if (frame === null) return null;
    return fastDecode(frame.bytes, frame.headerLength, this.connection.protocolVersion) ?? Decoder.for(frame.bytes, this.connection.protocolVersion).decode(frame.bytes);
  }

  /** A frame that lies whole in the first input chunk (no copy); otherwise its start goes to `partial`. */
  private frameFromInput(): { bytes: Buffer; headerLength: number } | null {
    const head = this.input[0];
    if (head === undefined) return null;
    this.checkFirstByte(head[0]);
    const header = readFixedHeader(head);
    const total = header === null ? 0 : this.checkedTotal(header);
    if (header !== null && head.length >= total) {
      this.consume(total);
      return { bytes: head.subarray(0, total), headerLength: header.headerLength };
    }
    // The frame (or its length field) continues in later chunks: collect it by copying, so
    // the chunk it starts in is not kept alive for a few bytes.
    this.partial = Buffer.allocUnsafe(header === null ? INITIAL_PARTIAL_BYTES : Math.min(total, Math.max(INITIAL_PARTIAL_BYTES, head.length)));
    this.partialLength = 0;
    this.partialTotal = total;
    this.partialHeaderLength = header === null ? 0 : header.headerLength;
    return this.fillPartial();
  }

  /** Copy input into the partial frame until it is whole (then return it) or the input runs out. */
  private fillPartial(): { bytes: Buffer; headerLength: number } | null {
    for (;;) {
      const partial = this.partial as Buffer;
      if (this.partialHeaderLength === 0) {
        const header = readFixedHeader(partial.subarray(0, this.partialLength));
        if (header !== null) {
          this.partialTotal = this.checkedTotal(header);
          this.partialHeaderLength = header.headerLength;
        }
      }
      if (this.partialHeaderLength > 0 && this.partialLength === this.partialTotal) {
        this.partial = null;
        return { bytes: partial.subarray(0, this.partialTotal), headerLength: this.partialHeaderLength };
      }
      const head = this.input[0];
      if (head === undefined) return null;
      // Until the length is known, take one byte at a time: the fixed header is at most 5.
      const want = this.partialHeaderLength === 0 ? this.partialLength + 1 : this.partialTotal;
      const n = Math.min(head.length, want - this.partialLength);
      this.grow(this.partialLength + n, want);
      head.copy(this.partial as Buffer, this.partialLength, 0, n);
      this.partialLength += n;
      this.consume(n);
    }
  }

  /** Make room for `needed` bytes, doubling up to the frame's size (so each byte is copied a bounded number of times). */
  private grow(needed: number, frameSize: number): void {
    const buf = this.partial as Buffer;
    if (needed <= buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.min(frameSize, Math.max(needed, buf.length * 2)));
    buf.copy(bigger, 0, 0, this.partialLength);
    this.partial = bigger;
  }

  /** Drop `n` bytes from the front of the input (all from its first chunk). */
  private consume(n: number): void {
    const head = this.input[0];
    if (n === head.length) this.input.shift();
    else this.input[0] = head.subarray(n);
    this.inputBytes -= n;
  }

  private checkFirstByte(first: number): void {
    if (!this.awaitingConnect) return;
    if (first !== 0x10) throw new MqttProtocolError(ReasonCode.ProtocolError, 'the first packet is not CONNECT');
  }

  private checkedTotal(header: FixedHeader): number {
    const total = header.headerLength + header.remainingLength;
    const limit = this.awaitingConnect ? Math.min(this.limits.maxConnectPacketSize, this.limits.maxPacketSize) : this.limits.maxPacketSize;
    // MQTT 5 §3.1.2.11.4: a packet over Maximum Packet Size -> 0x95 (before CONNECT: just closed).
    if (total > limit) throw new MqttProtocolError(ReasonCode.PacketTooLarge, `packet of ${total} bytes is over the ${limit}-byte limit`);
    this.awaitingConnect = false; // the first frame's size is known and allowed: later ones get the full limit
    return total;
  }
}

interface FixedHeader {
  headerLength: number;
  remainingLength: number;
}

/** Variable byte integer after the first byte (§2.2.3); null when more bytes are needed. */
function readFixedHeader(buf: Buffer): FixedHeader | null {
  let value = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= buf.length) return null;
    const byte = buf[i];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { headerLength: i + 1, remainingLength: value };
    multiplier *= 128;
  }
  // A fifth continuation byte: [MQTT-1.5.5-1] at most four bytes.
  throw new MqttProtocolError(ReasonCode.MalformedPacket, 'malformed remaining length (more than 4 bytes)');
}
