// Splits an MQTT byte stream into whole control packets before mqtt-packet
// decodes them, so the maximum packet size is enforced from the fixed header
// alone (an oversize packet is refused before its body is buffered) and a
// decoding error is attributed to exactly one packet. The hot packets (acks,
// PINGREQ, PUBLISH without properties) take a hand-written path (fast-codec.ts).
// Pure and resumable: bytes in, whole frames out, any split gives the same frames.

import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { fastDecode } from './fast-codec.ts';
import { MqttProtocolError, ReasonCode } from './reason-codes.ts';

/**
 * mqtt-packet parsers shared by all connections, one per protocol version: each
 * is fed exactly one whole frame at a time and emits synchronously, so it holds
 * no state between frames (it resets itself after an error). CONNECT gets a
 * fresh parser, because parsing one rewrites the parser's settings.
 */
const sharedDecoders = new Map<4 | 5, Decoder>();

class Decoder {
  private readonly parser;
  private decoded: Packet | null = null;
  private error: Error | null = null;

  constructor(protocolVersion: 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (packet: Packet) => {
      this.decoded = packet;
    });
    this.parser.on('error', (error: Error) => {
      this.error = error;
    });
  }

  static for(frame: Buffer, protocolVersion: 4 | 5): Decoder {
    if (frame[0] >> 4 === 1) return new Decoder(protocolVersion);
    let d = sharedDecoders.get(protocolVersion);
    if (d === undefined) sharedDecoders.set(protocolVersion, (d = new Decoder(protocolVersion)));
    return d;
  }

  decode(frame: Buffer): Packet {
    this.decoded = null;
    this.error = null;
    this.parser.parse(frame);
    const error = this.error as Error | null;
    const decoded = this.decoded as Packet | null;
    this.decoded = null;
    this.error = null;
    // A parser that failed, or still waits for bytes, is never shared again.
    if (error !== null || decoded === null) {
      for (const [version, d] of sharedDecoders) if (d === this) sharedDecoders.delete(version);
    }
    if (error !== null) throw new MqttProtocolError(ReasonCode.MalformedPacket, `malformed packet: ${error.message}`, { cause: error });
    if (decoded === null) throw new MqttProtocolError(ReasonCode.MalformedPacket, 'malformed packet: incomplete after its declared length');
    return decoded;
  }
}

const VERSION_4 = { protocolVersion: 4 } as const;

export class FrameReader {
  private pending: Buffer | null = null;
  /** Until the first packet is in, it must be a CONNECT [MQTT-3.1.0-1]: fail on its first byte. */
  private awaitingConnect = true;

  /**
   * maxPacketSize: whole-packet limit in bytes (fixed header included);
   * `connection` says the protocol version once CONNECT set it (an object, not a
   * closure: one reader per connection, so per-connection allocations count).
   */
  constructor(private maxPacketSize: number, private readonly connection: { readonly protocolVersion: 4 | 5 } = VERSION_4) {}

  setMaxPacketSize(bytes: number): void {
    this.maxPacketSize = bytes;
  }

  /**
   * Feed bytes; calls onPacket for each whole packet. Throws MqttProtocolError for
   * a malformed or oversize packet; the caller ends the connection.
   */
  push(chunk: Buffer, onPacket: (packet: Packet) => void): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = null;
    while (buf.length > 0) {
      if (this.awaitingConnect) {
        if (buf[0] !== 0x10) throw new MqttProtocolError(ReasonCode.ProtocolError, 'the first packet is not CONNECT');
        this.awaitingConnect = false;
      }
      const header = readFixedHeader(buf);
      if (header === null) break; // need more bytes for the length
      const total = header.headerLength + header.remainingLength;
      if (total > this.maxPacketSize) {
        // [MQTT-3.2.2-?] MQTT 5 §3.1.2.11.4: a packet over Maximum Packet Size -> 0x95.
        throw new MqttProtocolError(ReasonCode.PacketTooLarge, `packet of ${total} bytes is over the ${this.maxPacketSize}-byte limit`);
      }
      if (buf.length < total) break;
      const frame = buf.subarray(0, total);
      onPacket(fastDecode(frame, header.headerLength, this.connection.protocolVersion) ?? this.decode(frame));
      buf = buf.subarray(total);
    }
    if (buf.length > 0) this.pending = Buffer.from(buf); // copy: the socket may reuse its chunk
  }

  private decode(frame: Buffer): Packet {
    return Decoder.for(frame, this.connection.protocolVersion).decode(frame);
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
