// Responder: answers every request on its subject with a fixed payload sent to
// the request's reply subject. Replies for one input chunk go out in one write.

import { ControlLines } from '../control-lines.ts';
import { lineTokens, MsgScanner } from '../msg-scanner.ts';
import { openNatsSocket } from '../wire.ts';
import { sleep, type WorkerContext } from '../worker-context.ts';
import type { ResponderResult, ResponderSpec } from '../worker-protocol.ts';

export async function runResponder(spec: ResponderSpec, ctx: WorkerContext): Promise<ResponderResult> {
  const socket = await openNatsSocket(spec.port, `SUB ${spec.subject} 1\r\n`);
  const control = new ControlLines(socket);
  const body = `${spec.payloadBytes}\r\n${'x'.repeat(spec.payloadBytes)}\r\n`;
  let replies = '';
  let answered = 0;
  const scanner = new MsgScanner({
    onControl: control.onControl,
    onMsgLine(buf, start, end) {
      // MSG <subject> <sid> <reply> <size>: only requests carry a reply subject.
      const tokens = lineTokens(buf, start, end);
      if (tokens.length !== 5) return;
      replies += `PUB ${tokens[3]} ${body}`;
      answered++;
    },
  });
  socket.on('data', (chunk: Buffer) => {
    scanner.feed(chunk);
    if (replies.length === 0) return;
    socket.write(replies);
    replies = '';
  });
  socket.on('error', () => {});
  socket.resume();
  ctx.ready();
  await Promise.race([ctx.command('stop'), sleep(spec.capMs)]);
  socket.destroy();
  if (control.error !== null) throw new Error(`responder got ${control.error}`);
  return { role: 'responder', answered };
}
