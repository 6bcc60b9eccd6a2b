// Many messages in one request, for producers that would otherwise pay one HTTP
// round trip per message (as Kafka's REST proxy takes a list of records):
//   POST /v1/messages    body: NDJSON, one message per line
// A line is the envelope subscribers read (`{"subject", "data" | "data_base64",
// "headers"?, "reply"?}`), so an NDJSON subscription can be replayed as it is.
// Messages are published in line order with the rules of a single publish; a bad
// line fails alone and is reported in its slot of `results`, the others go on.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { HttpProblem, problemDocument, toProblem } from '../errors.ts';
import { natsHeadersFromJson } from '../headers.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { capturedByStream, checkPublish, publishChecked, type OutgoingMessage, type PublishResult } from '../publisher.ts';

/** Lines per request: bounds the work (and the results array) one request can ask for. */
export const MAX_BATCH_MESSAGES = 10_000;
/** Body bytes per request, whatever max_payload is. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const batchSchema: RouteDocSchema = {
  operationId: 'publishBatch',
  summary: 'Publish many messages in one request (NDJSON)',
  description:
    `The body is NDJSON (\`Content-Type: application/x-ndjson\`), one message per line, at most ${MAX_BATCH_MESSAGES} lines and ${MAX_BATCH_BYTES} bytes: ` +
    '`{"subject": "...", "data": "text"}` or `"data_base64"` for bytes, with optional `"headers": {"Name": "v" | ["v", ...]}` (NATS headers, spelled as they should arrive) and `"reply"`. Empty lines are skipped. ' +
    'Messages are published in order under the same rules as a single publish. The answer lists one result per message, in order: a PubAck `{stream, seq, duplicate?}` for a subject a stream captures, `{subject, size}` for a core publish, or `{error: <problem>}` for a message that was refused; refused messages do not stop the others.',
  tags: ['messaging'],
  consumes: ['application/x-ndjson'],
  response: {
    200: {
      description: 'Every line was handled; see `failed` and each `results` entry',
      type: 'object',
      required: ['published', 'failed', 'results'],
      properties: {
        published: { type: 'integer' },
        failed: { type: 'integer' },
        results: { type: 'array', items: { type: 'object', additionalProperties: true } },
      },
    },
  },
};

export async function batchPublishRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer', bodyLimit: MAX_BATCH_BYTES }, (_request, body, done) => done(null, body));

  app.post('/v1/messages', { schema: batchSchema, bodyLimit: MAX_BATCH_BYTES }, async (request: FastifyRequest, reply: FastifyReply) => {
    const lines = splitLines(request.body as Buffer, MAX_BATCH_MESSAGES + 1);
    if (lines.length > MAX_BATCH_MESSAGES) throw new HttpProblem('payload_too_large', `more than ${MAX_BATCH_MESSAGES} messages in one request`, { max_messages: MAX_BATCH_MESSAGES });
    const pending: Array<Promise<PublishResult | HttpProblem> | HttpProblem> = [];
    for (const line of lines) {
      try {
        const message = parseLine(line);
        checkPublish(ctx, request.principal, message);
        // Issued one after another: the broker sees them in line order. The failure is
        // caught at once: an earlier line's PubAck error can arrive while a later line
        // still awaits the stream list, and an unhandled rejection would end the process.
        pending.push(publishChecked(ctx, message, await capturedByStream(ctx, message)).catch(toProblem));
      } catch (error) {
        pending.push(toProblem(error));
      }
    }
    const settled = await Promise.all(pending);
    let failed = 0;
    const results = settled.map((value): Record<string, unknown> => {
      if (value instanceof HttpProblem) {
        failed++;
        ctx.stats.errors++;
        return { error: problemDocument(value) };
      }
      return value.kind === 'stored' ? { ...value.ack } : { subject: value.subject, size: value.size };
    });
    return reply.code(200).send({ published: results.length - failed, failed, results });
  });
}

/**
 * The non-empty lines of an NDJSON body, as slices of it (a trailing CR is dropped),
 * at most `max`: a 16 MiB body of short lines would otherwise make millions of
 * slices (about 1 GiB and seconds of CPU) before the line limit refuses it.
 */
function splitLines(body: Buffer, max: number): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < body.length && lines.length < max) {
    let end = body.indexOf(NEWLINE, start);
    if (end < 0) end = body.length;
    let last = end;
    if (last > start && body[last - 1] === 0x0d) last--;
    if (last > start) lines.push(body.subarray(start, last));
    start = end + 1;
  }
  return lines;
}

function parseLine(line: Buffer): OutgoingMessage {
  let json: unknown;
  try {
    json = JSON.parse(line.toString('utf8'));
  } catch (error) {
    throw new HttpProblem('invalid_json', `a line is not valid JSON: ${(error as Error).message}`, {}, { cause: error });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HttpProblem('invalid_request', 'a line must be a JSON object with a subject');
  const { subject, data, data_base64: base64, headers, reply } = json as Record<string, unknown>;
  if (typeof subject !== 'string') throw new HttpProblem('invalid_request', 'subject must be a string');
  if (data !== undefined && base64 !== undefined) throw new HttpProblem('invalid_request', 'give data or data_base64, not both', { subject });
  if ((data !== undefined && typeof data !== 'string') || (base64 !== undefined && typeof base64 !== 'string')) throw new HttpProblem('invalid_request', 'data and data_base64 must be strings', { subject });
  if (typeof base64 === 'string' && (base64.length % 4 !== 0 || !BASE64.test(base64))) throw new HttpProblem('invalid_request', 'data_base64 is not valid base64', { subject });
  if (reply !== undefined && typeof reply !== 'string') throw new HttpProblem('invalid_request', 'reply must be a string', { subject });
  const body = typeof base64 === 'string' ? Buffer.from(base64, 'base64') : Buffer.from(typeof data === 'string' ? data : '', 'utf8');
  return { subject, body, headers: natsHeadersFromJson(headers), ...(reply === undefined ? {} : { reply }) };
}
