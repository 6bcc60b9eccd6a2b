// The gateway's error and not-found handlers: everything leaves as a problem
// document (errors.ts). A failure is described with what the request was about
// (its path parameters, its Content-Type against what the route takes), and a
// path that exists under other methods is 405 with `Allow` (RFC 9110 15.5.6),
// not 404.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem, sendProblem, toProblem, type ProblemContext } from './errors.ts';
import type { RouteDocSchema } from './openapi.ts';
import type { RouteTable } from './route-table.ts';

/** The media types a route's body may have: JSON for a body schema, else what it `consumes`. */
function acceptedTypes(schema: RouteDocSchema | undefined): string[] {
  if (schema?.body !== undefined) return ['application/json'];
  return schema?.consumes ?? [];
}

function contextOf(request: FastifyRequest): ProblemContext {
  return {
    params: request.params as Record<string, unknown> | undefined,
    accepts: acceptedTypes(request.routeOptions.schema as RouteDocSchema | undefined),
    ...(request.headers['content-type'] === undefined ? {} : { contentType: request.headers['content-type'] }),
  };
}

export function installProblemHandlers(app: FastifyInstance, table: RouteTable, onProblem: (problem: HttpProblem) => void = () => {}): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error, contextOf(request));
    onProblem(problem);
    if (problem.status >= 500 && problem.code === 'internal') request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, problem, request);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = table.methodsAt(path);
    const problem =
      allowed.length === 0 || allowed.includes(request.method)
        ? new HttpProblem('not_found', `no route for ${request.method} ${path}`)
        : new HttpProblem('method_not_allowed', `${path} takes ${allowed.join(', ')}, not ${request.method}`, { allow: allowed });
    if (problem.code === 'method_not_allowed') reply.header('allow', allowed.join(', '));
    onProblem(problem);
    return sendProblem(reply, problem, request);
  });
}
