// ADR-49 counters (nats-server 2.12): on a stream with allow_msg_counter every
// subject is a counter. A publish carries `Nats-Incr: <signed integer>` and no
// body; the stream loads the last value of the subject, adds the increment and
// stores `{"val":"<total>"}` with the publish's headers kept (for recounts).
// Totals are arbitrary-precision integers (BigInt), never JS numbers.

import type { MessageHeaders } from '../protocol/headers.ts';
import { JsError } from './errors.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import type { StreamStore } from './store/stream-store.ts';

export const INCREMENT_HEADER = 'Nats-Incr';

/** Headers a counter publish may not carry: a counter has no expected state and no rollup (NS stream.go). */
export const INCOMPATIBLE_HEADERS = [
  'Nats-Rollup',
  'Nats-Expected-Stream',
  'Nats-Expected-Last-Msg-Id',
  'Nats-Expected-Last-Subject-Sequence-Subject',
  'Nats-Expected-Last-Sequence',
  'Nats-Expected-Last-Subject-Sequence',
] as const;

/** What Go's big.Int SetString(s, 10) accepts: an optional sign and decimal digits. */
const INTEGER = /^[+-]?[0-9]+$/;

/**
 * The increment a publish asks for, or null without one (an empty value counts
 * as none). Throws when the publish cannot be applied to this stream.
 */
export function incrementOf(headers: MessageHeaders | null, counterStream: boolean, bodyLength: number): bigint | null {
  const raw = headers?.get(INCREMENT_HEADER);
  if (raw === undefined || raw === '') return null;
  if (!INTEGER.test(raw)) throw new JetStreamApiError(JsError.MessageIncrInvalid);
  if (!counterStream) throw new JetStreamApiError(JsError.MessageIncrDisabled);
  if (bodyLength > 0) throw new JetStreamApiError(JsError.MessageIncrPayload);
  for (const name of INCOMPATIBLE_HEADERS) if (headers?.get(name) !== undefined) throw new JetStreamApiError(JsError.MessageIncrInvalid);
  return BigInt(raw.startsWith('+') ? raw.slice(1) : raw);
}

/** The stored total of a counter message body, or null when the body is not one. */
function totalOf(body: Buffer): bigint | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  const val = (parsed as { val?: unknown } | null)?.val;
  return typeof val === 'string' && INTEGER.test(val) ? BigInt(val.startsWith('+') ? val.slice(1) : val) : null;
}

/** The subject's total after adding `increment` to its last stored value (zero when it has none). */
export function nextTotal(store: StreamStore, subject: string, increment: bigint): bigint {
  const last = store.last(subject);
  if (last === null) return increment;
  const total = totalOf(last.data);
  if (total === null) throw new JetStreamApiError(JsError.MessageCounterBroken);
  return total + increment;
}

/** `{"val":"<total>"}`: the body stored for a counter, a string so no client loses precision. */
export function counterBody(total: bigint): Buffer {
  return Buffer.from(`{"val":"${total}"}`);
}
