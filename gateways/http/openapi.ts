// The OpenAPI 3.1 document, generated from the schemas the routes are validated
// with, so the document cannot drift from what the server accepts. Every route is
// recorded through fastify's onRoute hook; a route documents itself with the
// usual fastify/swagger keys on its schema (summary, description, tags,
// operationId) plus `consumes` for raw (non-JSON) request bodies and
// `public: true` for routes that need no credentials. The routes come from the
// RouteTable: what is served now, so nothing the server would 404 is listed.

import type { OpenAPIV3_1 } from 'openapi-types';
import { HTTP_ERRORS } from './errors.ts';
import type { RecordedRoute } from './route-table.ts';

type JsonSchema = Record<string, unknown>;

export interface RouteDocSchema {
  summary: string;
  description?: string;
  tags?: string[];
  operationId: string;
  /** Media types of a raw request body (publish payloads, KV values, objects). */
  consumes?: string[];
  /** No credentials needed (documents, health). */
  public?: boolean;
  params?: JsonSchema;
  querystring?: JsonSchema;
  headers?: JsonSchema;
  body?: JsonSchema;
  /** Per status: a JSON schema (application/json), or `{ description, content }`. */
  response?: Record<string, JsonSchema>;
}

/** `/v1/subjects/:subject` -> `/v1/subjects/{subject}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable and comes from one table.',
  required: ['type', 'title', 'status', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string', enum: Object.keys(HTTP_ERRORS) },
  },
  additionalProperties: true,
};

function parameters(location: 'path' | 'query' | 'header', schema: JsonSchema | undefined): OpenAPIV3_1.ParameterObject[] {
  if (schema === undefined) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties)
    .filter(([name]) => !(location === 'header' && name.toLowerCase() === 'authorization'))
    .map(([name, property]) => {
      const { description, ...rest } = property;
      return {
        name,
        in: location,
        required: location === 'path' ? true : required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: rest as OpenAPIV3_1.ParameterObject['schema'],
      };
    });
}

function responses(schema: RouteDocSchema): OpenAPIV3_1.ResponsesObject {
  const out: OpenAPIV3_1.ResponsesObject = {};
  for (const [status, spec] of Object.entries(schema.response ?? {})) {
    const description = typeof spec.description === 'string' ? spec.description : 'Success';
    if ('content' in spec || !('type' in spec || 'properties' in spec)) {
      out[status] = { description, ...(spec.content === undefined ? {} : { content: spec.content as Record<string, OpenAPIV3_1.MediaTypeObject> }) };
    } else {
      out[status] = { description, content: { 'application/json': { schema: spec as OpenAPIV3_1.SchemaObject } } };
    }
  }
  const problem = { content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };
  if (!schema.public) {
    out['401'] ??= { description: 'Credentials required or wrong', ...problem };
    out['403'] ??= { description: 'Permission denied for the subject', ...problem };
  }
  out.default = { description: 'An error (see `code`)', ...problem };
  return out;
}

function operation(route: RecordedRoute & { schema: RouteDocSchema }): OpenAPIV3_1.OperationObject {
  const { schema } = route;
  const op: OpenAPIV3_1.OperationObject = {
    operationId: schema.operationId,
    summary: schema.summary,
    ...(schema.description === undefined ? {} : { description: schema.description }),
    ...(schema.tags === undefined ? {} : { tags: schema.tags }),
    parameters: [...parameters('path', schema.params), ...parameters('query', schema.querystring), ...parameters('header', schema.headers)],
    responses: responses(schema),
  };
  if (schema.body !== undefined) {
    op.requestBody = { required: true, content: { 'application/json': { schema: schema.body as OpenAPIV3_1.SchemaObject } } };
  } else if (schema.consumes !== undefined) {
    const content: Record<string, OpenAPIV3_1.MediaTypeObject> = {};
    for (const type of schema.consumes) content[type] = { schema: { type: 'string', contentMediaType: type } as OpenAPIV3_1.SchemaObject };
    op.requestBody = { required: false, content };
  }
  op.security = schema.public ? [] : [{ bearer: [] }, { basic: [] }];
  return op;
}

export interface DocumentInfo {
  title: string;
  version: string;
  description: string;
}

/**
 * The document for `routes` (HEAD, the CORS preflight and undocumented routes
 * left out); `servers` says where they are reached.
 */
export function buildOpenApiDocument(routes: readonly RecordedRoute[], info: DocumentInfo, servers: OpenAPIV3_1.ServerObject[]): OpenAPIV3_1.Document {
  const paths: OpenAPIV3_1.PathsObject = {};
  for (const route of routes) {
    if (route.schema === undefined || route.method === 'HEAD' || route.method === 'OPTIONS') continue;
    const path = openApiPath(route.url);
    // openapi-types' 3.1 PathItemObject inherits 3.0 operation types for its method keys.
    const item = (paths[path] ??= {}) as Record<string, OpenAPIV3_1.OperationObject>;
    item[route.method.toLowerCase()] = operation(route as RecordedRoute & { schema: RouteDocSchema });
  }
  return {
    openapi: '3.1.0',
    info,
    servers,
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA as OpenAPIV3_1.SchemaObject },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A NATS token (or user token) from the shared user model' },
        basic: { type: 'http', scheme: 'basic', description: 'A NATS user and password from the shared user model' },
      },
    },
  };
}
