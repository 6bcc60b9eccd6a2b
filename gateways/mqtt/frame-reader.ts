// Splits an MQTT byte stream into whole control packets before mqtt-packet
// decodes them, so the maximum packet size is enforced from the fixed header
// alone (an oversize packet is refused before its body is buffered) and a
// decoding error is attributed to exactly one packet. The hot packets (acks,
// PINGREQ, PUBLISH without properties) take a hand-written path (fast-codec.ts). Pure and resumable: bytes
// in, whole frames out, any split of the input gives the same frames.

import mqttPacket from 'mqtt-packet';
import type { Packet } from 'mqtt-packet';
import { fastDecode } from './fast-codec.ts';
import { MqttProtocolError, ReasonCode } from './reason-codes.ts';

export class FrameReader {
  private pending: Buffer | null = null;
  private readonly decoder = mqttPacket.parser({ protocolVersion: 4 });
  private decoded: Packet | null = null;
  private decodeError: Error | null = null;
  /** Until the first packet is in, it must be a CONNECT [MQTT-3.1.0-1]: fail on its first byte. */
  private awaitingConnect = true;

  /** maxPacketSize: whole-packet limit in bytes (fixed header included). */
  constructor(private maxPacketSize: number, private readonly protocolVersion: () => 4 | 5 = () => 4) {
    this.decoder.on('packet', (packet: Packet) => {
      this.decoded = packet;
    });
    this.decoder.on('error', (error: Error) => {
      this.decodeError = error;
    });
  }

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
      onPacket(fastDecode(frame, header.headerLength, this.protocolVersion()) ?? this.decode(frame));
      buf = buf.subarray(total);
    }
    if (buf.length > 0) this.pending = Buffer.from(buf); // copy: the socket may reuse its chunk
  }

  private decode(frame: Buffer): Packet {
    this.decoded = null;
    this.decodeError = null;
    this.decoder.parse(frame);
    if (this.decodeError !== null) {
      const error: Error = this.decodeError;
      throw new MqttProtocolError(ReasonCode.MalformedPacket, `malformed packet: ${error.message}`, { cause: error });
    }
    if (this.decoded === null) throw new MqttProtocolError(ReasonCode.MalformedPacket, 'malformed packet: incomplete after its declared length');
    return this.decoded;
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
