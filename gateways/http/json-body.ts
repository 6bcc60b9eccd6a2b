// JSON bodies: fastify's own parser (prototype-poisoning checks included), except
// that an empty body is no body. Clients send `Content-Type: application/json`
// on a DELETE or a body-less POST out of habit (curl -H, fetch wrappers); a
// route that needs a body still says so through its schema (400 invalid_request).

import type { FastifyInstance } from 'fastify';

export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else parse(request, body as string, done);
  });
}
