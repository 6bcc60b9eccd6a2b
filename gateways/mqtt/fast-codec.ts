// Hand-written codecs for the packets on the QoS 1/2 hot path, where
// mqtt-packet's general parser and generator dominate the cost: the four
// acknowledgements, PINGREQ, and PUBLISH without properties; and the fleet's
// reconnect path: CONNECT without a will or properties. Anything else (or
// anything unusual) returns null and goes to mqtt-packet, which stays the
// reference; test/unit/mqtt-fast-codec.test.ts checks both agree.

import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { MqttProtocolError, ReasonCode } from './reason-codes.ts';

const ACK_CMDS = { 4: 'puback', 5: 'pubrec', 6: 'pubrel', 7: 'pubcomp' } as const;

/**
 * Decode a whole frame (fixed header at `start - headerLength`, body from
 * `start`), or return null to let mqtt-packet do it.
 */
export function fastDecode(frame: Buffer, bodyStart: number, protocolVersion: 4 | 5): Packet | null {
  const first = frame[0];
  const type = first >> 4;
  const length = frame.length - bodyStart;
  if (type >= 4 && type <= 7) {
    if (length !== 2) return null; // a v5 reason code or properties: the full parser
    // [MQTT-3.6.1-1] PUBREL flags are 0010; the others 0000.
    if ((first & 0x0f) !== (type === 6 ? 2 : 0)) return null;
    const messageId = frame.readUInt16BE(bodyStart);
    return { cmd: ACK_CMDS[type as 4 | 5 | 6 | 7], messageId } as Packet;
  }
  if (first === 0xc0 && length === 0) return { cmd: 'pingreq' };
  if (first === 0x10) return decodeConnect(frame, bodyStart);
  if (type !== 3) return null;
  const qos = (first >> 1) & 3;
  if (qos === 3) throw new MqttProtocolError(ReasonCode.MalformedPacket, 'PUBLISH with QoS 3'); // [MQTT-3.3.1-4]
  let pos = bodyStart;
  if (length < 2) return null;
  const topicLength = frame.readUInt16BE(pos);
  pos += 2;
  if (pos + topicLength > frame.length) return null;
  const topicBytes = frame.subarray(pos, pos + topicLength);
  pos += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    if (pos + 2 > frame.length) return null;
    messageId = frame.readUInt16BE(pos);
    pos += 2;
  }
  if (protocolVersion === 5) {
    if (pos >= frame.length || frame[pos] !== 0) return null; // properties present: the full parser
    pos += 1;
  }
  const topic = topicBytes.toString('utf8');
  // Malformed UTF-8 decodes to U+FFFD: leave such topics to the full parser's checks.
  if (topic.indexOf('\ufffd') >= 0) return null;
  const packet: IPublishPacket = {
    cmd: 'publish',
    topic,
    payload: frame.subarray(pos),
    qos: qos as 0 | 1 | 2,
    dup: (first & 8) !== 0,
    retain: (first & 1) !== 0,
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

/** A length-prefixed UTF-8 string at `pos`, or null when it overruns the frame or is not valid UTF-8 (the full parser's case). */
function readString(frame: Buffer, pos: number): string | null {
  if (pos + 2 > frame.length) return null;
  const end = pos + 2 + frame.readUInt16BE(pos);
  if (end > frame.length) return null;
  const text = frame.toString('utf8', pos + 2, end);
  return text.indexOf('\ufffd') >= 0 ? null : text;
}

/**
 * CONNECT of MQTT 3.1.1 or 5 with no will and no properties, with or without
 * user name and password (a sensor's reconnect); null for anything else,
 * including every malformed case, which mqtt-packet then reports.
 */
function decodeConnect(frame: Buffer, start: number): IConnectPacket | null {
  if (frame.length < start + 10 || frame.readUInt16BE(start) !== 4 || frame.toString('latin1', start + 2, start + 6) !== 'MQTT') return null;
  const level = frame[start + 6];
  const flags = frame[start + 7];
  // The reserved bit [MQTT-3.1.2-3] and the will's flag, QoS and retain bits: the full parser.
  if ((level !== 4 && level !== 5) || (flags & 0x3d) !== 0) return null;
  const hasUser = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  if (level === 4 && hasPassword && !hasUser) return null; // [MQTT-3.1.2-22]
  let pos = start + 10;
  if (level === 5) {
    if (frame[pos] !== 0) return null; // properties
    pos += 1;
  }
  const clientId = readString(frame, pos);
  if (clientId === null) return null;
  pos += 2 + Buffer.byteLength(clientId);
  const packet: IConnectPacket = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: level, clean: (flags & 2) !== 0, keepalive: frame.readUInt16BE(start + 8), clientId };
  if (hasUser) {
    const username = readString(frame, pos);
    if (username === null) return null;
    packet.username = username;
    pos += 2 + Buffer.byteLength(username);
  }
  if (hasPassword) {
    if (pos + 2 > frame.length) return null;
    const end = pos + 2 + frame.readUInt16BE(pos);
    if (end > frame.length) return null;
    packet.password = Buffer.from(frame.subarray(pos + 2, end)); // a copy: the frame's chunk is not kept alive
    pos = end;
  }
  return pos === frame.length ? packet : null;
}

/** A 4-byte acknowledgement (success, no properties: valid in 3.1.1 and 5). */
export function encodeAck(cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp', messageId: number): Buffer {
  const first = cmd === 'puback' ? 0x40 : cmd === 'pubrec' ? 0x50 : cmd === 'pubrel' ? 0x62 : 0x70;
  return Buffer.from([first, 2, messageId >> 8, messageId & 0xff]);
}

/**
 * PUBLISH without properties (3.1.1, or MQTT 5 with a zero property length),
 * or MQTT 5 with a Topic Alias as its one property when `topicAlias` > 0
 * (`topic` is then empty once the client has the mapping).
 */
export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1 | 2, retain: boolean, dup: boolean, messageId: number, protocolVersion: 4 | 5, topicAlias = 0): Buffer {
  const topicLength = Buffer.byteLength(topic);
  // Property length, then for an alias: identifier 0x23 and a Two Byte Integer (MQTT 5 §3.3.2.3.4).
  const propertyBytes = protocolVersion === 5 ? (topicAlias > 0 ? 4 : 1) : 0;
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + propertyBytes + payload.length;
  let lengthBytes = 1;
  for (let n = remaining; n >= 128; n = Math.floor(n / 128)) lengthBytes++;
  const headerLength = 1 + lengthBytes;
  const out = Buffer.allocUnsafe(headerLength + remaining - payload.length);
  out[0] = 0x30 | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  let n = remaining;
  let pos = 1;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out[pos++] = byte;
  } while (n > 0);
  out.writeUInt16BE(topicLength, pos);
  pos += 2;
  pos += out.write(topic, pos, 'utf8');
  if (qos > 0) {
    out.writeUInt16BE(messageId, pos);
    pos += 2;
  }
  if (propertyBytes === 4) {
    out[pos++] = 3;
    out[pos++] = 0x23;
    out.writeUInt16BE(topicAlias, pos);
    pos += 2;
  } else if (propertyBytes === 1) out[pos++] = 0;
  return payload.length === 0 ? out : Buffer.concat([out, payload]);
}
