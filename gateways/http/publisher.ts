// One message from HTTP into the broker, shared by the single publish route and
// the batch route so both apply the same rules: subject syntax, the principal's
// publish permission, max_payload counted with the header block. The choice
// between a stream (PubAck) and the core (fire and forget) is the JetStream
// client library's StreamPublisher, shared with the MQTT gateway.

import type { Principal } from '../../core/auth/authorizer.ts';
import type { MessageHeaders } from '../../core/broker/headers.ts';
import { isValidPublishSubject } from '../../core/subject/subject.ts';
import { requirePublish } from './auth.ts';
import type { GatewayContext } from './context.ts';
import { HttpProblem } from './errors.ts';
import type { PubAck } from '../../core/jetstream-client/jetstream-wire.ts';

export interface OutgoingMessage {
  readonly subject: string;
  readonly body: Buffer;
  readonly headers: MessageHeaders | null;
  readonly reply?: string;
}

/** A stream captured the message (its PubAck), or the core took it. */
export type PublishResult = { readonly kind: 'stored'; readonly ack: PubAck } | { readonly kind: 'sent'; readonly subject: string; readonly size: number };

/** Why a subject cannot be published to (or subscribed to), in the words of the rule it breaks. */
export function subjectFault(subject: string, use: 'publish' | 'subscribe' = 'publish'): string {
  if (subject === '') return 'the subject is empty';
  if (/\s/.test(subject)) return 'subjects cannot contain whitespace';
  const tokens = subject.split('.');
  if (tokens.some((token) => token === '')) return 'subjects cannot have empty tokens (a leading, trailing or double `.`)';
  if (use === 'publish' && tokens.some((token) => token === '*' || token === '>')) return 'wildcards (`*`, `>`) are for subscribing, not publishing';
  if (tokens.slice(0, -1).includes('>')) return '`>` may only be the last token';
  return 'not a valid subject';
}

/** Throws an HttpProblem when the message may not be published as it is. */
export function checkPublish(ctx: GatewayContext, principal: Principal, message: OutgoingMessage): void {
  const { subject, reply } = message;
  if (!isValidPublishSubject(subject)) throw new HttpProblem('invalid_subject', `cannot publish to ${JSON.stringify(subject)}: ${subjectFault(subject)}`, { subject });
  requirePublish(principal, subject);
  if (reply !== undefined && !isValidPublishSubject(reply)) throw new HttpProblem('invalid_subject', `invalid reply subject ${JSON.stringify(reply)}`, { subject: reply });
  // NATS counts the header block against max_payload too.
  const size = message.body.length + (message.headers === null ? 0 : message.headers.encode().length);
  if (size > ctx.maxPayload) throw new HttpProblem('payload_too_large', `message is ${size} bytes with headers, max_payload is ${ctx.maxPayload}`, { size, max_payload: ctx.maxPayload });
}

/**
 * Whether a stream captures the message (the index follows the stream
 * advisories, so a stream created a moment ago anywhere counts). A message with
 * its own reply subject goes to the core: the reply owner wants the answer.
 */
export async function capturedByStream(ctx: GatewayContext, message: OutgoingMessage): Promise<boolean> {
  return ctx.streams.storesMessage(message);
}

/**
 * Publishes a checked message. The publish is issued before this returns, so
 * calls made one after another reach the broker in that order.
 */
export async function publishChecked(ctx: GatewayContext, message: OutgoingMessage, inStream: boolean): Promise<PublishResult> {
  const ack = await ctx.streams.publish({ subject: message.subject, data: message.body, headers: message.headers, reply: message.reply }, inStream);
  ctx.stats.published++;
  ctx.stats.publishedBytes += message.body.length;
  return ack === null ? { kind: 'sent', subject: message.subject, size: message.body.length } : { kind: 'stored', ack };
}
