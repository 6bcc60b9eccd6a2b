// The shape every $JS.API handler has. One route per API operation; the
// engine picks the route from the subject tokens after `$JS.API.`.

import type { JetStreamEngine } from './jetstream-engine.ts';

export interface ApiRequest {
  subject: string;
  /** Subject tokens after the operation (`STREAM.INFO.<name>` -> [name]). */
  args: string[];
  header: Buffer | null;
  body: Buffer;
}

export type ApiAnswer =
  /** JSON answer; `type` is added from the route when missing. */
  | { kind: 'json'; body: Record<string, unknown> }
  /** Raw messages (direct get), in order: each a header block (or none) and a payload. */
  | { kind: 'raw'; messages: ReadonlyArray<{ header: Buffer | null; data: Buffer }> };

export type ApiReply = ApiAnswer | { kind: 'async'; done: Promise<ApiAnswer> };

export interface ApiRoute {
  /** Operation tokens, e.g. 'STREAM.CREATE'. */
  readonly op: string;
  /** Response type, e.g. 'io.nats.jetstream.api.v1.stream_create_response'. */
  readonly type: string;
  /** Fields nats-server adds to this response even on error (e.g. purged: 0). */
  readonly errorExtras?: Record<string, unknown>;
  handle(engine: JetStreamEngine, request: ApiRequest): ApiReply;
}

export function json(body: Record<string, unknown>): ApiReply {
  return { kind: 'json', body };
}

/** Parse an optional JSON body; empty means {}. Throws JetStreamApiError on bad JSON. */
export function parseBody<T extends object>(body: Buffer, invalid: () => Error): T {
  if (body.length === 0) return {} as T;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  return value as T;
}
