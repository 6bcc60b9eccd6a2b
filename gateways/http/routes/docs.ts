// The API describes itself: GET /openapi.json (generated from the route schemas
// at request time, so it always matches what is registered) and GET /docs, a
// small interactive page that needs nothing from the network.

import type { FastifyInstance } from 'fastify';
import { DOCS_PAGE } from '../docs-page.ts';
import { buildOpenApiDocument, type DocumentInfo, type RecordedRoute, type RouteDocSchema } from '../openapi.ts';

const openApiSchema: RouteDocSchema = {
  operationId: 'openapi',
  summary: 'This OpenAPI 3.1 document',
  tags: ['meta'],
  public: true,
  response: { 200: { description: 'OpenAPI 3.1 document', type: 'object', additionalProperties: true } },
};

const docsSchema: RouteDocSchema = {
  operationId: 'docs',
  summary: 'Interactive page for this API',
  tags: ['meta'],
  public: true,
  response: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
};

export async function docsRoutes(app: FastifyInstance, options: { routes: readonly RecordedRoute[]; info: DocumentInfo }): Promise<void> {
  let cached: string | null = null;
  app.get('/openapi.json', { schema: openApiSchema }, async (_request, reply) => {
    cached ??= JSON.stringify(buildOpenApiDocument(options.routes, options.info));
    return reply.type('application/json; charset=utf-8').send(cached);
  });
  app.get('/docs', { schema: docsSchema }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
}
