// HTTP <-> NATS header mapping (documented in the OpenAPI description).
//
// Inbound (HTTP request -> NATS message):
//   - `Nats-*` headers are carried as they are: `Nats-Msg-Id`, `Nats-Expected-Stream`, ...
//     HTTP clients (fetch, HTTP/2) lower-case names, but JetStream looks these up by
//     their exact spelling, so known names are restored to their canonical case and
//     other `Nats-*` names are written in MIME canonical form (`Nats-Foo-Bar`).
//   - `Mqtt-*` headers likewise, in MIME canonical form: the MQTT gateway's public
//     headers (`Mqtt-Retain: true`, `Mqtt-Qos`, ...; gateways/mqtt/README.md "Messages").
//   - `X-Nats-Header-<Name>: value` becomes NATS header `<Name>` as the client spelled it.
//   - Every repeat of a header is kept, in order (NATS headers are multi-valued).
//   - Nothing else is forwarded: hop-by-hop and HTTP-only headers mean nothing downstream.
// Outbound (NATS reply -> HTTP response): `Nats-*` keep their name, every other NATS
// header `K` is sent as `X-Nats-Header-K`; a NATS status line is `X-Nats-Status`.

import type { FastifyReply } from 'fastify';
import { MessageHeaders } from '../../core/broker/headers.ts';
import { HttpProblem } from './errors.ts';

export const HEADER_PREFIX = 'x-nats-header-';

const CANONICAL_NATS_HEADERS = [
  'Nats-Msg-Id',
  'Nats-Expected-Stream',
  'Nats-Expected-Last-Msg-Id',
  'Nats-Expected-Last-Sequence',
  'Nats-Expected-Last-Subject-Sequence',
  'Nats-Expected-Last-Subject-Sequence-Subject',
  'Nats-Rollup',
  'Nats-TTL',
  'Nats-Marker-Reason',
  'Nats-Stream',
  'Nats-Sequence',
  'Nats-Subject',
  'Nats-Time-Stamp',
  'Nats-Last-Sequence',
  'Nats-Num-Pending',
];
const CANONICAL_BY_LOWER = new Map(CANONICAL_NATS_HEADERS.map((name) => [name.toLowerCase(), name]));

function canonicalNatsName(name: string): string {
  const known = CANONICAL_BY_LOWER.get(name.toLowerCase());
  if (known !== undefined) return known;
  return name
    .split('-')
    .map((part) => (part.length === 0 ? part : part[0].toUpperCase() + part.slice(1).toLowerCase()))
    .join('-');
}

/**
 * NATS headers from a request's raw header list (name/value pairs as received,
 * case preserved), or null when none apply.
 */
export function natsHeadersFromHttp(rawHeaders: readonly string[]): MessageHeaders | null {
  let headers: MessageHeaders | null = null;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const lower = name.toLowerCase();
    let key: string | null = null;
    if (lower.startsWith(HEADER_PREFIX)) key = name.slice(HEADER_PREFIX.length);
    else if (lower.startsWith('nats-') || lower.startsWith('mqtt-')) key = canonicalNatsName(name);
    if (key === null || key.length === 0) continue;
    headers ??= new MessageHeaders();
    headers.append(key, rawHeaders[i + 1]);
  }
  return headers;
}

/**
 * `Idempotency-Key: k` (the IETF httpapi draft's header, used by payment APIs
 * and Zilla) as `Nats-Msg-Id: k`, so a retried publish is stored once: a
 * stream drops a repeated id within its duplicate window (the PubAck then says
 * `duplicate: true`). Both headers with different values is a 400.
 */
export function applyIdempotencyKey(headers: MessageHeaders | null, key: string | string[] | undefined): MessageHeaders | null {
  if (key === undefined) return headers;
  const value = Array.isArray(key) ? key.join(', ') : key;
  if (value === '' || /[\r\n]/.test(value)) throw new HttpProblem('invalid_header', 'Idempotency-Key must be a non-empty single-line value', { header: 'Idempotency-Key' });
  const msgId = headers?.get('Nats-Msg-Id');
  if (msgId !== undefined && msgId !== value) {
    throw new HttpProblem('invalid_header', `Idempotency-Key ${JSON.stringify(value)} and Nats-Msg-Id ${JSON.stringify(msgId)} disagree; send one of them`, { header: 'Idempotency-Key' });
  }
  if (msgId !== undefined) return headers;
  const out = headers ?? new MessageHeaders();
  out.set('Nats-Msg-Id', value);
  return out;
}

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Copy a NATS message's headers onto an HTTP response (see the rule above). */
export function applyNatsHeadersToReply(reply: FastifyReply, headers: MessageHeaders | null): void {
  if (headers === null) return;
  if (headers.status > 0) reply.header('x-nats-status', String(headers.status));
  const grouped = new Map<string, string[]>();
  for (const [key, value] of headers) {
    const name = key.toLowerCase().startsWith('nats-') ? key : `X-Nats-Header-${key}`;
    if (!HTTP_TOKEN.test(name) || /[^\t\x20-\x7e\x80-\xff]/.test(value)) continue; // not representable in HTTP/1.1
    const list = grouped.get(name) ?? [];
    list.push(value);
    grouped.set(name, list);
  }
  for (const [name, values] of grouped) reply.header(name, values.length === 1 ? values[0] : values);
}

/** NATS headers as JSON for event streams: every key maps to all its values. */
export function natsHeadersToJson(headers: MessageHeaders | null): Record<string, string[]> | undefined {
  if (headers === null || headers.size === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const [key, value] of headers) (out[key] ??= []).push(value);
  return out;
}

/**
 * NATS headers from their JSON form (the inverse of natsHeadersToJson: a name maps
 * to a string or a list of strings), or null for none. Names are kept as spelled:
 * in JSON the client writes NATS headers directly, not HTTP ones.
 */
export function natsHeadersFromJson(json: unknown): MessageHeaders | null {
  if (json === undefined) return null;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new HttpProblem('invalid_header', 'headers must be an object of name -> string or [string]');
  let headers: MessageHeaders | null = null;
  for (const [name, value] of Object.entries(json)) {
    if (!HTTP_TOKEN.test(name)) throw new HttpProblem('invalid_header', `invalid NATS header name ${JSON.stringify(name)}`, { header: name });
    for (const one of Array.isArray(value) ? value : [value]) {
      if (typeof one !== 'string' || /[\r\n]/.test(one)) throw new HttpProblem('invalid_header', `header ${name} needs string values without CR or LF`, { header: name });
      headers ??= new MessageHeaders();
      headers.append(name, one);
    }
  }
  return headers;
}
