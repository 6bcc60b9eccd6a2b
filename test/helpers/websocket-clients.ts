// WebSocket clients for tests: the official wsconnect() on Node 20, and a raw
// `ws` client that sends exact frames and reads the byte stream back.
//
// Node 20 has no global WebSocket unless started with --experimental-websocket
// (Node 22 has it by default). wsconnect() takes a `wsFactory` option for
// exactly this, so on Node 20 the tests hand it the `ws` package's client,
// which has the same onopen/onmessage/binaryType surface. Everything else in
// the client is unchanged.
//
// @nats-io/nats-core keeps ONE global transport factory: connect() from
// transport-node and wsconnect() each set it before dialling. Open TCP and
// WebSocket clients one after another (await each), never concurrently.

import { once } from 'node:events';
import { wsconnect, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import WebSocket from 'ws';

export async function connectWs(url: string, options: ConnectionOptions = {}): Promise<NatsConnection> {
  const native = (globalThis as { WebSocket?: unknown }).WebSocket !== undefined;
  return wsconnect({
    servers: url,
    ...(native ? {} : { wsFactory: async (u: string) => ({ socket: new WebSocket(u), encrypted: false }) }),
    ...options,
  });
}

/** A WebSocket peer with exact frame control; `text()` is everything received so far. */
export class RawWebSocket {
  private chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  closeCode = 0;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.chunks.push(Buffer.from(data));
      this.wake();
    });
    socket.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<RawWebSocket> {
    const socket = new WebSocket(url, protocols, options);
    const client = new RawWebSocket(socket);
    await once(socket, 'open');
    return client;
  }

  /** Upgrade that must fail: resolves with the HTTP status the server answered. */
  static async refusedStatus(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<number> {
    const socket = new WebSocket(url, protocols, options);
    return new Promise((resolve, reject) => {
      socket.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('open', () => {
        socket.terminate();
        reject(new Error(`upgrade to ${url} unexpectedly succeeded`));
      });
      socket.on('error', () => {});
    });
  }

  /** One binary frame per call. */
  frame(data: string | Buffer): void {
    this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true });
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }

  /** Wait until the received text satisfies `done`, or the socket closes, or time runs out. */
  async until(done: (text: string) => boolean, timeoutMs = 5_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text())) {
      if (this.closed) throw new Error(`socket closed (${this.closeCode}) before the condition held; got:\n${this.text()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; got:\n${this.text()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.text();
  }

  close(): void {
    this.socket.terminate();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
