// A plain TCP client for protocol-level tests: send exact bytes, read exact
// bytes, see whether the server closed the connection.

import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

export class RawClient {
  private received = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, options: { readInfo?: boolean } = {}): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const client = new RawClient(socket);
    if (options.readInfo !== false) await client.readUntil('\r\n');
    return client;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Everything received since the last take (consumes it). */
  take(): string {
    const text = this.received.toString('latin1');
    this.received = Buffer.alloc(0);
    return text;
  }

  /** Wait until the received text contains `marker` (or the socket closes); consumes through it. */
  async readUntil(marker: string, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.received.toString('latin1');
      const at = text.indexOf(marker);
      if (at >= 0) {
        this.received = this.received.subarray(Buffer.byteLength(text.slice(0, at + marker.length), 'latin1'));
        return text.slice(0, at + marker.length);
      }
      if (this.closed) throw new Error(`connection closed before ${JSON.stringify(marker)}; got ${JSON.stringify(text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${JSON.stringify(marker)}; got ${JSON.stringify(text.slice(0, 500))}`);
      await this.waitForData(left);
    }
  }

  /** Send PING and return everything that arrived before the PONG (the server processed all prior input). */
  async roundTrip(data = ''): Promise<string> {
    this.send(`${data}PING\r\n`);
    const text = await this.readUntil('PONG\r\n');
    return text.slice(0, -'PONG\r\n'.length);
  }

  /** Wait for the server to close the connection; returns what it sent meanwhile. */
  async waitClosed(timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`connection still open; got ${JSON.stringify(this.received.toString('latin1').slice(0, 500))}`);
      await this.waitForData(left);
    }
    return this.take();
  }

  close(): void {
    this.socket.destroy();
  }

  private waitForData(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
