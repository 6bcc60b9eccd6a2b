// Per-user request limits (issue 26): a user's `rate_limit { max, window }` in
// the shared user model (core/config/auth-options.ts) caps the requests their
// Principal makes on /v1 routes; one more in the window is 429 `rate_limited`
// with Retry-After (seconds). Counting is @fastify/rate-limit's (fixed window
// per key); the key is the user name, so one user's requests count together
// whichever connection or session they come from. Users without a limit are not
// counted at all. Runs after authentication (preHandler), so the Principal is known.

import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from './errors.ts';

const limitOf = (request: FastifyRequest) => request.principal?.rateLimit;

/** Apply each user's limit to the routes registered on `app` after this call. */
export async function applyUserRateLimits(app: FastifyInstance): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: true,
    hook: 'preHandler',
    allowList: (request) => limitOf(request) === undefined,
    keyGenerator: (request) => `user:${request.principal.name}`,
    max: (request) => limitOf(request)?.max ?? Number.MAX_SAFE_INTEGER,
    timeWindow: (request) => limitOf(request)?.windowMs ?? 1_000,
    errorResponseBuilder: (request, context) => {
      const limit = limitOf(request);
      const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000));
      return new HttpProblem('rate_limited', `user ${JSON.stringify(request.principal.name)} may make ${context.max} requests per ${limit?.windowMs ?? 0} ms; retry in ${retryAfter} s`, {
        principal: request.principal.name,
        limit: context.max,
        window_ms: limit?.windowMs,
        retry_after: retryAfter,
      });
    },
  });
}
