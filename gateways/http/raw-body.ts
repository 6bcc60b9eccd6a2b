// Raw bodies: inside a scope that calls this, every content type (and none) is
// taken as bytes, exactly as sent. Publish payloads and KV values are opaque to
// the gateway; the JSON parser stays in place for the other route groups
// because fastify content-type parsers are encapsulated per plugin.

import type { FastifyInstance } from 'fastify';

export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

export function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}
