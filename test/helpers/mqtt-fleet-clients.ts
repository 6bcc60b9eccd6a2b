// Fleet-scale MQTT clients for the fleet bench (test/bench/mqtt-fleet.ts) and
// the reconnect-storm test: the load generator in its own process
// (test/bench/mqtt-fleet-load.ts, raw MQTT 3.1.1), and a separate client that
// pings every 20 ms and records when each PINGRESP came.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect as tcpConnect } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { PROJECT_ROOT } from './servers.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The load generator process; `ask` sends one command and waits for its answer. */
export class LoadGenerator {
  private constructor(private readonly child: ChildProcess, private readonly lines: Interface) {}

  static start(port: number): LoadGenerator {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/mqtt-fleet-load.ts', String(port)], { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    return new LoadGenerator(child, createInterface({ input: child.stdout! }));
  }

  async ask<T>(command: Record<string, unknown>): Promise<T> {
    const answer = once(this.lines, 'line');
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    const [line] = (await answer) as [string];
    return JSON.parse(line) as T;
  }

  async stop(): Promise<void> {
    const exited = once(this.child, 'exit');
    this.child.stdin!.write(`${JSON.stringify({ cmd: 'exit' })}\n`);
    await exited;
  }
}

export interface PingRecord {
  /** The worst PINGREQ -> PINGRESP round trip, ms. */
  readonly worstMs: number;
  readonly pings: number;
  /** When each PINGRESP arrived (performance.now()). */
  readonly answeredAt: readonly number[];
}

/** A client that sends PINGREQ every 20 ms and keeps the worst round trip, until stopped. */
export async function startPinger(port: number): Promise<{ stop(): Promise<PingRecord> }> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await once(socket, 'connect');
  const connect = Buffer.from([0x10, 18, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 0, 0, 6, 0x70, 0x69, 0x6e, 0x67, 0x65, 0x72]);
  socket.write(connect);
  await once(socket, 'data'); // CONNACK
  let running = true;
  let worstMs = 0;
  const answeredAt: number[] = [];
  const loop = (async () => {
    while (running) {
      const sent = performance.now();
      socket.write(Buffer.from([0xc0, 0]));
      await once(socket, 'data'); // PINGRESP
      const now = performance.now();
      worstMs = Math.max(worstMs, now - sent);
      answeredAt.push(now);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      socket.destroy();
      return { worstMs, pings: answeredAt.length, answeredAt };
    },
  };
}
