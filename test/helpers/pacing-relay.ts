// A TCP relay that paces one direction to a byte rate: a slow uplink in a
// test. Each accepted connection is piped to `target`; bytes from the client
// (the leaf) reach the target at most `bytesPerSecond`, in slices every
// TICK_MS, and the relay stops reading the client while it holds more than
// HOLD_BYTES, so TCP backpressure reaches the sender as on a real slow link.
// The other direction is passed through as is.

import { connect, createServer, type Server, type Socket } from 'node:net';

const TICK_MS = 20;
const HOLD_BYTES = 64 * 1024;

export interface PacingRelay {
  readonly port: number;
  /** Bytes passed toward the target so far. */
  readonly relayed: () => number;
  close(): Promise<void>;
}

export async function startPacingRelay(target: { host: string; port: number }, bytesPerSecond: number): Promise<PacingRelay> {
  let relayed = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    sockets.add(client).add(upstream);
    const held: Buffer[] = [];
    let heldBytes = 0;
    const perTick = Math.max(1, Math.floor((bytesPerSecond * TICK_MS) / 1000));
    const timer = setInterval(() => {
      let budget = perTick;
      while (budget > 0 && held.length > 0) {
        const chunk = held[0];
        const take = Math.min(budget, chunk.length);
        upstream.write(chunk.subarray(0, take));
        if (take === chunk.length) held.shift();
        else held[0] = chunk.subarray(take);
        heldBytes -= take;
        budget -= take;
        relayed += take;
      }
      if (heldBytes < HOLD_BYTES && client.isPaused()) client.resume();
    }, TICK_MS);
    client.on('data', (chunk: Buffer) => {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes >= HOLD_BYTES) client.pause();
    });
    upstream.pipe(client);
    const end = (): void => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    relayed: () => relayed,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
