// ADR-44 (nats-server 2.12, jetstream_versioning.go errorOnRequiredApiLevel):
// a client may send `Nats-Required-Api-Level: <n>` with an API request or a
// batch publish; a server below level n (or given no number) refuses it with
// 412 JSRequiredApiLevel instead of doing less than was asked.

import { parseHeaders } from '../protocol/headers.ts';
import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JS_API_LEVEL } from '../protocol/jetstream-api-level.ts';
import { JsError } from './errors.ts';

export const REQUIRED_API_LEVEL_HEADER = 'Nats-Required-Api-Level';
const HEADER_BYTES = Buffer.from(REQUIRED_API_LEVEL_HEADER);

/** Does a header value ask for more than this server's level? (Go's strconv.Atoi: an optional sign and digits.) */
export function requiredApiLevelRefused(value: string): boolean {
  return !/^[+-]?\d+$/.test(value) || JS_API_LEVEL < Number(value);
}

/** Does an API request's header block ask for a higher level? A byte search first: most have no such header. */
export function requiresHigherApiLevel(header: Buffer | null): boolean {
  if (header === null || header.indexOf(HEADER_BYTES) < 0) return false;
  const value = parseHeaders(header).get(REQUIRED_API_LEVEL_HEADER);
  return value !== undefined && value !== '' && requiredApiLevelRefused(value);
}

/**
 * A batch message's header block without Nats-Required-Api-Level (checked,
 * then never stored), or null when it asks for more than this server's level.
 */
export function stripRequiredApiLevel(header: Buffer): Buffer | null {
  if (header.indexOf(HEADER_BYTES) < 0) return header;
  const h = parseHeaders(header);
  const value = h.get(REQUIRED_API_LEVEL_HEADER);
  if (value === undefined) return header;
  if (value !== '' && requiredApiLevelRefused(value)) return null;
  h.delete(REQUIRED_API_LEVEL_HEADER);
  return h.encode();
}

/** Throw 10185 when an API request asks for a higher level. */
export function checkRequiredApiLevel(header: Buffer | null): void {
  if (requiresHigherApiLevel(header)) throw new JetStreamApiError(JsError.RequiredApiLevel);
}
