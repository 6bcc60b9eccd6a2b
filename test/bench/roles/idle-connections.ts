// Idle connections: opens `count` clients that each finished the handshake
// (CONNECT + PING answered by PONG), then holds them, answering server PINGs,
// until told to stop. The orchestrator reads the server's RSS meanwhile.

import type { Socket } from 'node:net';
import { openNatsSocket, PONG } from '../wire.ts';
import { nowNs, type WorkerContext } from '../worker-context.ts';
import type { IdleConnectionsResult, IdleConnectionsSpec } from '../worker-protocol.ts';

export async function runIdleConnections(spec: IdleConnectionsSpec, ctx: WorkerContext): Promise<IdleConnectionsResult> {
  const sockets: Socket[] = [];
  const deadline = nowNs() + BigInt(spec.capMs) * 1_000_000n;
  let started = 0;
  const opener = async (): Promise<void> => {
    while (started < spec.count && nowNs() < deadline) {
      started++;
      const socket = await openNatsSocket(spec.port);
      // Idle clients see nothing but an occasional PING, whole in one chunk.
      socket.on('data', (chunk: Buffer) => {
        if (chunk.includes('PING\r\n')) socket.write(PONG);
      });
      socket.on('error', () => {});
      socket.resume();
      sockets.push(socket);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, opener));
  ctx.ready();
  await ctx.command('stop');
  for (const socket of sockets) socket.destroy();
  return { role: 'idle-connections', opened: sockets.length };
}
