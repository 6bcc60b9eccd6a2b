// The API describes itself: GET /openapi.json (generated from the route schemas
// at request time, so it always matches what is served: routes served only while
// a provider is mounted come and go with it) and GET /docs, a small interactive
// page that needs nothing from the network. `servers` is the gateway as this
// request reached it (scheme and Host), so tools that need an absolute URL get one.

import type { FastifyInstance } from 'fastify';
import { DOCS_PAGE } from '../docs-page.ts';
import { buildOpenApiDocument, type DocumentInfo, type RouteDocSchema } from '../openapi.ts';
import type { RouteTable } from '../route-table.ts';

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

export async function docsRoutes(app: FastifyInstance, options: { table: RouteTable; info: DocumentInfo }): Promise<void> {
  app.get('/openapi.json', { schema: openApiSchema }, async (request, reply) => {
    const servers = [{ url: `${request.protocol}://${request.host}`, description: 'This gateway, as this request reached it' }];
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(buildOpenApiDocument(options.table.routes, options.info, servers)));
  });
  app.get('/docs', { schema: docsSchema }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
}
