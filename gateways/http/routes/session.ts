// Browser login (issue 26): an EventSource sends cookies but no headers, so
//   POST /v1/login    with Authorization (Bearer or Basic) -> 201 and a session
//                     cookie: HttpOnly (scripts cannot read it), SameSite=Strict
//                     (other sites' pages never send it), Path=/v1, Max-Age = the
//                     session's lifetime, Secure over HTTPS
//   POST /v1/logout   revokes the session the cookie names (and clears it) -> 204
// The cookie then authenticates GET and HEAD requests (auth.ts).

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { GatewayContext } from '../context.ts';
import { HttpProblem } from '../errors.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { SESSION_COOKIE, type SessionStore } from '../session-store.ts';

const TAGS = ['session'];

const loginSchema: RouteDocSchema = {
  operationId: 'login',
  summary: 'Log in: exchange the Authorization header for a session cookie',
  description:
    'For pages whose EventSource cannot send headers. The cookie (`switchboard_session`, HttpOnly, SameSite=Strict, Path=/v1) then authenticates GET and HEAD requests, never writes. From another origin use `fetch(url, { method: "POST", credentials: "include", headers: { authorization } })` with the origin in `http_gateway { cors { allowed_origins, credentials: true } }`.',
  tags: TAGS,
  response: {
    201: {
      description: 'Logged in; the Set-Cookie header carries the session',
      type: 'object',
      required: ['user', 'expires'],
      properties: { user: { type: 'string' }, expires: { type: 'string', description: 'RFC 3339' } },
    },
  },
};

const logoutSchema: RouteDocSchema = {
  operationId: 'logout',
  summary: 'Log out: revoke the session the cookie names',
  tags: TAGS,
  response: { 204: { description: 'Revoked (or there was none)' } },
};

function cookieOptions(secure: boolean, maxAgeSeconds: number): Parameters<FastifyReply['setCookie']>[2] {
  return { path: '/v1', httpOnly: true, sameSite: 'strict', secure, maxAge: maxAgeSeconds };
}

export async function sessionRoutes(app: FastifyInstance, options: { ctx: GatewayContext; sessions: SessionStore; secure: boolean }): Promise<void> {
  const { sessions, secure } = options;

  app.post('/v1/login', { schema: loginSchema }, async (request, reply) => {
    if (request.headers.authorization === undefined && !options.ctx.auth.usesCertificates) {
      throw new HttpProblem('unauthorized', 'log in with Authorization: Bearer <token> or Basic');
    }
    const session = sessions.create(request.principal);
    reply.setCookie(SESSION_COOKIE, session.id, cookieOptions(secure, Math.floor(sessions.ttlMs / 1000)));
    return reply.code(201).send({ user: session.principal.name, expires: new Date(session.expiresAt).toISOString() });
  });

  app.post('/v1/logout', { schema: logoutSchema, config: { sessionWrites: true } }, async (request, reply) => {
    const id = request.cookies[SESSION_COOKIE];
    if (id !== undefined) sessions.revoke(id);
    reply.clearCookie(SESSION_COOKIE, { path: '/v1' });
    return reply.code(204).send();
  });
}
