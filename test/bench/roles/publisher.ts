// Publisher: writes one pre-encoded batch of identical PUB frames over and
// over, honouring socket backpressure, until `count` messages or the time cap.
// A final PING/PONG proves the server has read every byte before we stop the clock.

import { ControlLines } from '../control-lines.ts';
import { MsgScanner } from '../msg-scanner.ts';
import { drained, openNatsSocket, payloadOf, pubFrame, repeatFrame } from '../wire.ts';
import { nowNs, type WorkerContext } from '../worker-context.ts';
import type { PublisherResult, PublisherSpec } from '../worker-protocol.ts';

/** Large enough that per-write overhead vanishes, small enough to keep the pipe moving. */
const BATCH_BYTES = 64 * 1024;
const PONG_TIMEOUT_MS = 30_000;

export async function runPublisher(spec: PublisherSpec, ctx: WorkerContext): Promise<PublisherResult> {
  const socket = await openNatsSocket(spec.port);
  const control = new ControlLines(socket);
  const scanner = new MsgScanner({ onControl: control.onControl });
  socket.on('data', (chunk: Buffer) => scanner.feed(chunk));
  socket.resume();

  const frame = pubFrame(spec.subject, null, payloadOf(spec.payloadBytes));
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / frame.length));
  const batch = repeatFrame(frame, perBatch);
  ctx.ready();
  await ctx.command('go');

  const startNs = nowNs();
  const deadline = startNs + BigInt(spec.capMs) * 1_000_000n;
  let sent = 0;
  let cappedByTime = false;
  while (sent < spec.count) {
    if (nowNs() > deadline) {
      cappedByTime = true;
      break;
    }
    const n = Math.min(perBatch, spec.count - sent);
    // The batch is never modified, so queued writes may share it.
    const ok = socket.write(n === perBatch ? batch : batch.subarray(0, n * frame.length));
    sent += n;
    if (!ok) await drained(socket);
  }
  await control.ping(PONG_TIMEOUT_MS);
  const endNs = nowNs();
  socket.destroy();
  if (control.error !== null) throw new Error(`publisher got ${control.error}`);
  return { role: 'publisher', sent, startNs, endNs, cappedByTime };
}
