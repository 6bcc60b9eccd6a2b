// The load generator of the MQTT fleet bench (mqtt-fleet.ts), in its own
// process so the server's CPU and memory are its own: raw MQTT 3.1.1 clients
// that CONNECT and SUBSCRIBE once, then stay idle (keep alive 600 s). Commands
// come as JSON lines on stdin, each answered by one JSON line on stdout:
//   {"cmd":"open","count":N,"concurrency":C,"prefix":"p"}  -> {"opened":N,"seconds":s}
//     client i is persistent (CleanSession=0, QoS 1 subscription) when i is odd
//     and `persistentHalf`, else clean with a QoS 0 subscription
//   {"cmd":"storm","concurrency":C}  -> every socket dropped at once, then all
//     reconnect (persistent ones find their session; clean ones subscribe again)
//     -> {"reconnected":N,"seconds":s}
//   {"cmd":"exit"}
//   node --import tsx test/bench/mqtt-fleet-load.ts <port>

import { once } from 'node:events';
import { connect as tcpConnect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const port = Number(process.argv[2]);

function str(s: string): Buffer {
  const b = Buffer.from(s);
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** A fixed header with a one- or two-byte remaining length (every packet here is small). */
function packet(first: number, body: Buffer): Buffer {
  const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([(body.length & 0x7f) | 0x80, body.length >> 7]);
  return Buffer.concat([Buffer.from([first]), len, body]);
}

interface Client {
  readonly id: string;
  readonly persistent: boolean;
  socket: Socket | null;
}

/** CONNECT, then SUBSCRIBE unless the session was present; resolves once the client is ready. */
async function start(client: Client): Promise<void> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.setNoDelay(true);
  socket.on('error', () => {});
  client.socket = socket;
  await once(socket, 'connect');
  const connect = packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, client.persistent ? 0 : 2, 2, 0x58]), str(client.id)]));
  socket.write(connect);
  await new Promise<void>((resolve, reject) => {
    let pending = Buffer.alloc(0);
    socket.on('close', () => reject(new Error(`${client.id} closed before it was ready`)));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending[1]) {
        const type = pending[0] >> 4;
        const sessionPresent = type === 2 && (pending[2] & 1) === 1;
        pending = pending.subarray(2 + pending[1]);
        if (type === 2 && sessionPresent) resolve();
        else if (type === 2) socket.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(`fleet/${client.id}/cmd`), Buffer.from([client.persistent ? 1 : 0])])));
        else if (type === 9) resolve();
      }
    });
  });
  socket.removeAllListeners('data');
  socket.removeAllListeners('close');
  socket.resume();
}

async function runAll(clients: readonly Client[], concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < clients.length) await start(clients[next++]);
  }));
  return (performance.now() - started) / 1000;
}

const clients: Client[] = [];
const reply = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { cmd: string; count?: number; concurrency?: number; prefix?: string; persistentHalf?: boolean };
  if (command.cmd === 'open') {
    const batch = Array.from({ length: command.count ?? 0 }, (_, i) => ({ id: `${command.prefix ?? 'c'}-${i}`, persistent: command.persistentHalf === true && i % 2 === 1, socket: null }));
    const seconds = await runAll(batch, command.concurrency ?? 32);
    clients.push(...batch);
    reply({ opened: batch.length, seconds });
  } else if (command.cmd === 'storm') {
    for (const c of clients) c.socket?.destroy();
    const seconds = await runAll(clients, command.concurrency ?? 1000);
    reply({ reconnected: clients.length, seconds });
  } else {
    for (const c of clients) c.socket?.destroy();
    process.exit(0);
  }
}
