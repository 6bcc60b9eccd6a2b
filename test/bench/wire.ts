// Raw NATS client plumbing for the load workers: a TCP socket past the
// handshake, and pre-encoded protocol frames. No client library on purpose:
// the generator must cost far less CPU than the server it measures.

import { connect, type Socket } from 'node:net';

/** Non-verbose so the server sends no +OK per PUB; headers on, as modern clients declare. */
export const CONNECT_LINE = 'CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n';
export const PING = Buffer.from('PING\r\n');
export const PONG = Buffer.from('PONG\r\n');

/** A payload of `size` printable bytes (the content does not matter to a router). */
export function payloadOf(size: number): Buffer {
  return Buffer.alloc(size, 'x');
}

/** One `PUB <subject> [reply] <size>\r\n<payload>\r\n` frame. */
export function pubFrame(subject: string, reply: string | null, payload: Buffer): Buffer {
  const head = reply === null ? `PUB ${subject} ${payload.length}\r\n` : `PUB ${subject} ${reply} ${payload.length}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload, Buffer.from('\r\n')]);
}

/** `frame` repeated `times` times, for one large write per batch. */
export function repeatFrame(frame: Buffer, times: number): Buffer {
  const out = Buffer.allocUnsafe(frame.length * times);
  for (let i = 0; i < times; i++) frame.copy(out, i * frame.length);
  return out;
}

/**
 * Connect, read INFO, send CONNECT + `extra` (e.g. SUB lines) + PING and wait
 * for PONG, so the server has registered everything before we return. The
 * socket comes back paused: attach a data listener, then resume() it.
 */
export function openNatsSocket(port: number, extra = '', timeoutMs = 10_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let seen = '';
    let sentConnect = false;
    const timer = setTimeout(() => fail(new Error(`handshake timed out on port ${port}; got ${JSON.stringify(seen.slice(0, 200))}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('latin1');
      if (!sentConnect && seen.includes('\r\n')) {
        sentConnect = true;
        socket.write(`${CONNECT_LINE}${extra}PING\r\n`);
      }
      if (seen.includes('-ERR')) fail(new Error(`server refused handshake: ${seen.trim()}`));
      else if (seen.includes('PONG\r\n')) done();
    };
    const onError = (error: Error): void => fail(error);
    const onClose = (): void => fail(new Error(`connection closed during handshake; got ${JSON.stringify(seen)}`));
    function cleanup(): void {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    function done(): void {
      cleanup();
      socket.pause();
      resolve(socket);
    }
    function fail(error: Error): void {
      cleanup();
      socket.destroy();
      reject(error);
    }
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/** Resolve once `socket` can take more writes. */
export function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      reject(new Error('connection closed while writing'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}
