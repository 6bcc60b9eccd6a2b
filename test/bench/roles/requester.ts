// Requester: sequential request/reply over a muxed inbox (one wildcard SUB,
// a fresh reply subject per request, as NATS clients do). Each round trip is
// timed with hrtime from just before the PUB is written to the reply's arrival.

import { ControlLines } from '../control-lines.ts';
import { MsgScanner } from '../msg-scanner.ts';
import { openNatsSocket } from '../wire.ts';
import { nowNs, type WorkerContext } from '../worker-context.ts';
import type { RequesterResult, RequesterSpec } from '../worker-protocol.ts';

export async function runRequester(spec: RequesterSpec, ctx: WorkerContext): Promise<RequesterResult> {
  const inbox = `_INBOX.bench${process.pid}`;
  const socket = await openNatsSocket(spec.port, `SUB ${inbox}.* 1\r\n`);
  const control = new ControlLines(socket);
  const scanner = new MsgScanner({ onControl: control.onControl });
  const prefix = `PUB ${spec.subject} ${inbox}.`;
  const suffix = ` ${spec.payloadBytes}\r\n${'x'.repeat(spec.payloadBytes)}\r\n`;
  const total = spec.warmup + spec.count;
  const latencies = new Float64Array(spec.count);
  socket.on('error', () => {});
  ctx.ready();
  await ctx.command('go');

  const startNs = nowNs();
  const deadline = startNs + BigInt(spec.capMs) * 1_000_000n;
  const { measured, cappedByTime } = await new Promise<{ measured: number; cappedByTime: boolean }>((resolve, reject) => {
    let done = 0;
    let sentAt = 0n;
    const send = (): void => {
      sentAt = nowNs();
      socket.write(`${prefix}${done}${suffix}`);
    };
    socket.on('close', () => reject(new Error(`connection closed after ${done} requests${control.error ? `: ${control.error}` : ''}`)));
    socket.on('data', (chunk: Buffer) => {
      scanner.feed(chunk);
      // One request is outstanding at a time, so each new message is its reply.
      if (scanner.count === done) return;
      const now = nowNs();
      if (done >= spec.warmup) latencies[done - spec.warmup] = Number(now - sentAt) / 1_000;
      done = scanner.count;
      if (done >= total) resolve({ measured: spec.count, cappedByTime: false });
      else if (now > deadline) resolve({ measured: Math.max(0, done - spec.warmup), cappedByTime: true });
      else send();
    });
    socket.resume();
    send();
  });
  const elapsedNs = nowNs() - startNs;
  socket.removeAllListeners('close');
  socket.destroy();
  const sorted = latencies.slice(0, measured).sort();
  return { role: 'requester', latenciesUs: sorted, elapsedNs, cappedByTime };
}
