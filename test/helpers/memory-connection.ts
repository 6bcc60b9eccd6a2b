// An in-memory Connection pair (DESIGN seam 1): two ends joined without a
// socket, so a test can drive NATS or MQTT over the Connection seam with no
// I/O at all. It lives under test/ because nothing in production needs it yet
// (no dead code in core/).
//
// It keeps the seam's promises (CONVENTIONS 9): bytes written on one end reach
// the other end's onData in order, on a later turn of the event loop, and only
// while that end reads; write() returns false once the bytes not yet read reach
// the high-water mark, and onDrain fires when they are all read; end() delivers
// what is queued before closing, destroy() drops it; each end reports its close
// once.

import type { Connection } from '../../core/connection/connection.ts';

/** Same default as a Node.js stream's writable high-water mark. */
const DEFAULT_HIGH_WATER_MARK = 16 * 1024;

export interface MemoryConnectionOptions {
  /** Unread bytes at which write() starts returning false. */
  highWaterMark?: number;
}

class MemoryConnection implements Connection {
  readonly remoteAddress = 'memory';
  readonly remotePort = 0;
  peer!: MemoryConnection;
  /** Chunks written here that the peer has not read yet. */
  private queue: Buffer[] = [];
  private queued = 0;
  private reading = true;
  private flushScheduled = false;
  private needDrain = false;
  private ending = false;
  private closed = false;
  private readonly dataListeners: Array<(chunk: Buffer) => void> = [];
  private readonly drainListeners: Array<() => void> = [];
  private readonly closeListeners: Array<(error?: Error) => void> = [];

  constructor(private readonly highWaterMark: number) {}

  get writableLength(): number {
    return this.queued;
  }

  write(chunks: readonly Buffer[]): boolean {
    if (this.closed || this.ending) return false;
    for (const chunk of chunks) {
      // A copy: the caller may reuse its buffers once write() returns, as with a socket.
      this.queue.push(Buffer.from(chunk));
      this.queued += chunk.length;
    }
    this.peer.scheduleRead();
    if (this.queued < this.highWaterMark) return true;
    this.needDrain = true;
    return false;
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  onClose(listener: (error?: Error) => void): void {
    this.closeListeners.push(listener);
  }

  pauseReading(): void {
    this.reading = false;
  }

  resumeReading(): void {
    this.reading = true;
    this.scheduleRead();
  }

  end(): void {
    if (this.closed) return;
    this.ending = true;
    if (this.queued === 0) this.closeBoth();
    else this.peer.scheduleRead();
  }

  destroy(): void {
    this.closeBoth();
  }

  /** Read what the peer wrote, on a later turn, as a socket delivers data. */
  private scheduleRead(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.readFromPeer();
    });
  }

  private readFromPeer(): void {
    const writer = this.peer;
    while (this.reading && !this.closed && writer.queue.length > 0) {
      const chunk = writer.queue.shift() as Buffer;
      writer.queued -= chunk.length;
      for (const listener of this.dataListeners) listener(chunk);
    }
    if (writer.queued > 0) return;
    if (writer.needDrain && !writer.closed) {
      writer.needDrain = false;
      for (const listener of writer.drainListeners) listener();
    }
    if (writer.ending) writer.closeBoth();
  }

  private closeBoth(): void {
    this.closeOne();
    this.peer.closeOne();
  }

  private closeOne(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queued = 0;
    // On a later turn, as a socket's 'close': no listener runs inside the caller's destroy().
    setImmediate(() => {
      for (const listener of this.closeListeners) listener();
    });
  }
}

/** Two joined ends: what one writes, the other reads. */
export function createMemoryConnectionPair(options: MemoryConnectionOptions = {}): [Connection, Connection] {
  const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  const a = new MemoryConnection(highWaterMark);
  const b = new MemoryConnection(highWaterMark);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
