// A raw MQTT socket for bad-input tests: writes any bytes, decodes what comes
// back with mqtt-packet, and reports when the server closes.

import { connect as tcpConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import mqttPacket, { type Packet } from 'mqtt-packet';

export class RawMqtt {
  readonly packets: Packet[] = [];
  closed = false;
  /** When the server closed it (Date.now()), for tests that time closes. */
  closedAt: number | null = null;
  private readonly parser;

  private constructor(private readonly socket: Socket, protocolVersion: 4 | 5) {
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (p: Packet) => this.packets.push(p));
    this.parser.on('error', () => {});
    socket.on('data', (chunk) => this.parser.parse(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.closedAt = Date.now();
    });
    socket.on('error', () => {});
  }

  static async open(port: number, protocolVersion: 4 | 5 = 4): Promise<RawMqtt> {
    const socket = tcpConnect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawMqtt(socket, protocolVersion);
  }

  write(bytes: Buffer | Packet, protocolVersion: 4 | 5 = 4): void {
    this.socket.write(Buffer.isBuffer(bytes) ? bytes : mqttPacket.generate(bytes, { protocolVersion }));
  }

  async connect(protocolVersion: 4 | 5, extra: Partial<Extract<Packet, { cmd: 'connect' }>> = {}): Promise<Packet> {
    this.write({ cmd: 'connect', protocolId: 'MQTT', protocolVersion, clientId: '', clean: true, keepalive: 0, ...extra }, protocolVersion);
    return this.next('connack');
  }

  async next(cmd: Packet['cmd'], timeoutMs = 2000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.packets.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no ${cmd} within ${timeoutMs} ms; got ${this.packets.map((p) => p.cmd).join(',')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async waitClosed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (!this.closed) throw new Error('server did not close the connection');
  }

  /** Stop reading, so the server's writes back up. */
  pause(): void {
    this.socket.pause();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
