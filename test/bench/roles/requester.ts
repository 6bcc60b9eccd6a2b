// Requester: sequential request/reply over a muxed inbox (one wildcard SUB,
// a fresh reply subject per request, as NATS clients do). With several servers
// it sends one request to each in turn, never two at once, so a burst of
// machine noise hits all of them alike. Each round trip is timed with hrtime
// from just before the PUB is written to the reply's arrival.

import type { Socket } from 'node:net';
import { ControlLines } from '../control-lines.ts';
import { MsgScanner } from '../msg-scanner.ts';
import { openNatsSocket } from '../wire.ts';
import { nowNs, type WorkerContext } from '../worker-context.ts';
import type { RequesterResult, RequesterSpec } from '../worker-protocol.ts';

interface Lane {
  readonly socket: Socket;
  readonly control: ControlLines;
  readonly scanner: MsgScanner;
  readonly latencies: Float64Array;
  answered: number;
}

export async function runRequester(spec: RequesterSpec, ctx: WorkerContext): Promise<RequesterResult> {
  const inbox = `_INBOX.bench${process.pid}`;
  const lanes: Lane[] = await Promise.all(spec.ports.map(async (port) => {
    const socket = await openNatsSocket(port, `SUB ${inbox}.* 1\r\n`);
    const control = new ControlLines(socket);
    socket.on('error', () => {});
    return { socket, control, scanner: new MsgScanner({ onControl: control.onControl }), latencies: new Float64Array(spec.count), answered: 0 };
  }));
  const prefix = `PUB ${spec.subject} ${inbox}.`;
  const suffix = ` ${spec.payloadBytes}\r\n${'x'.repeat(spec.payloadBytes)}\r\n`;
  const rounds = spec.warmup + spec.count;
  ctx.ready();
  await ctx.command('go');

  const startNs = nowNs();
  const deadline = startNs + BigInt(spec.capMs) * 1_000_000n;
  const { measured, cappedByTime } = await new Promise<{ measured: number; cappedByTime: boolean }>((resolve, reject) => {
    let round = 0;
    let current = 0;
    let sentAt = 0n;
    const send = (): void => {
      sentAt = nowNs();
      lanes[current].socket.write(`${prefix}${round}${suffix}`);
    };
    lanes.forEach((lane, index) => {
      lane.socket.on('close', () => reject(new Error(`connection to port ${spec.ports[index]} closed in round ${round}${lane.control.error ? `: ${lane.control.error}` : ''}`)));
      lane.socket.on('data', (chunk: Buffer) => {
        lane.scanner.feed(chunk);
        // Only the current lane has a request outstanding, so a new message is its reply.
        if (index !== current || lane.scanner.count === lane.answered) return;
        const now = nowNs();
        lane.answered = lane.scanner.count;
        if (round >= spec.warmup) lane.latencies[round - spec.warmup] = Number(now - sentAt) / 1_000;
        current++;
        if (current === lanes.length) {
          current = 0;
          round++;
        }
        if (round >= rounds) resolve({ measured: spec.count, cappedByTime: false });
        // Only whole rounds count, so every server has the same number of samples.
        else if (now > deadline) resolve({ measured: Math.max(0, round - spec.warmup), cappedByTime: true });
        else send();
      });
      lane.socket.resume();
    });
    send();
  });
  const elapsedNs = nowNs() - startNs;
  for (const lane of lanes) {
    lane.socket.removeAllListeners('close');
    lane.socket.destroy();
  }
  return { role: 'requester', latenciesUs: lanes.map((lane) => lane.latencies.slice(0, measured).sort()), elapsedNs, cappedByTime };
}
