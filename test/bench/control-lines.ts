// The non-MSG lines a worker must react to: answer the server's PING (or it
// would call us stale), resolve our own PING's PONG, remember any -ERR.

import type { Socket } from 'node:net';
import { PING, PONG } from './wire.ts';

export class ControlLines {
  /** The first -ERR the server sent, if any. */
  error: string | null = null;
  private pongWaiters: Array<() => void> = [];

  constructor(private readonly socket: Socket) {}

  /** Pass as ScannerHooks.onControl. */
  readonly onControl = (line: string): void => {
    if (line === 'PING') {
      this.socket.write(PONG);
    } else if (line === 'PONG') {
      const first = this.pongWaiters.shift();
      first?.();
    } else if (line.startsWith('-ERR') && this.error === null) {
      this.error = line;
    }
  };

  /** PING and wait for its PONG: the server has handled everything we sent before it. */
  ping(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
      this.pongWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.write(PING);
    });
  }
}
