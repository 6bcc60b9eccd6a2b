// Subscriber: one SUB (optionally in a queue group), counts deliveries with the
// byte scanner and timestamps the first and last chunk that held messages.
// `reset` forgets what a warm-up publisher sent.
// On `drain` it PINGs: the PONG queues behind every message the server had
// already routed to us, so the count is final when it arrives.

import { ControlLines } from '../control-lines.ts';
import { MsgScanner } from '../msg-scanner.ts';
import { openNatsSocket } from '../wire.ts';
import { nowNs, sleep, type WorkerContext } from '../worker-context.ts';
import type { SubscriberResult, SubscriberSpec } from '../worker-protocol.ts';

const DRAIN_TIMEOUT_MS = 30_000;

export async function runSubscriber(spec: SubscriberSpec, ctx: WorkerContext): Promise<SubscriberResult> {
  const queue = spec.queue === null ? '' : ` ${spec.queue}`;
  const socket = await openNatsSocket(spec.port, `SUB ${spec.subject}${queue} 1\r\n`);
  const control = new ControlLines(socket);
  const scanner = new MsgScanner({ onControl: control.onControl });
  let firstNs = 0n;
  let lastNs = 0n;
  socket.on('data', (chunk: Buffer) => {
    const before = scanner.count;
    scanner.feed(chunk);
    if (scanner.count !== before) {
      lastNs = nowNs();
      if (firstNs === 0n) firstNs = lastNs;
    }
  });
  let closed = false;
  const closedByServer = new Promise<void>((resolve) => {
    socket.once('close', () => {
      closed = true;
      resolve();
    });
  });
  socket.on('error', () => {});
  socket.resume();
  ctx.ready();
  // After a warm-up the PONG proves every warm-up message has arrived; start counting afresh.
  ctx.command('reset')
    .then(() => control.ping(DRAIN_TIMEOUT_MS))
    .then(() => {
      scanner.count = 0;
      firstNs = lastNs = 0n;
      ctx.ready();
    })
    // Without its PONG the count cannot be trusted: end the run as failed.
    .catch(() => socket.destroy());

  await Promise.race([ctx.command('drain'), closedByServer, sleep(spec.capMs)]);
  let failure: string | null = null;
  if (closed) {
    failure = control.error ?? 'connection closed by the server';
  } else {
    try {
      await control.ping(DRAIN_TIMEOUT_MS);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    failure ??= control.error;
  }
  socket.destroy();
  return { role: 'subscriber', received: scanner.count, firstNs, lastNs, failure };
}
