// Serves the web console (issue 22) at `/` and its assets at /console/{file},
// from the directory console/build-console.ts wrote. Public routes: the page holds no
// data; everything it shows comes from /v1 with the user's own credentials, so
// a user sees and does only what their permissions allow.

import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpProblem } from '../errors.ts';
import type { RouteDocSchema } from '../openapi.ts';

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'tap-worker.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * The built console: beside the bundle (dist/switchboard.mjs -> dist/console) or,
 * running from source, the project's dist/console. The first that exists wins.
 */
export function defaultConsoleDir(): string {
  const candidates = [new URL('./console/', import.meta.url), new URL('../../../dist/console/', import.meta.url)].map((url) => fileURLToPath(url));
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[candidates.length - 1];
}

const pageSchema: RouteDocSchema = {
  operationId: 'console',
  summary: 'The web console (log in, overview, clients, streams, KV, subject tap)',
  tags: ['meta'],
  public: true,
  response: { 200: { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
};

const assetSchema: RouteDocSchema = {
  operationId: 'consoleAsset',
  summary: "The console's scripts and stylesheet",
  tags: ['meta'],
  public: true,
  params: { type: 'object', required: ['file'], properties: { file: { type: 'string', enum: Object.keys(TYPES) } } },
  response: { 200: { description: 'The asset', content: { 'text/javascript': { schema: { type: 'string' } }, 'text/css': { schema: { type: 'string' } } } } },
};

export async function consoleRoutes(app: FastifyInstance, options: { dir?: string }): Promise<void> {
  const dir = options.dir ?? defaultConsoleDir();
  // Built once per build: read once, then served from memory.
  const cache = new Map<string, Buffer>();
  const asset = async (file: string): Promise<Buffer> => {
    const cached = cache.get(file);
    if (cached !== undefined) return cached;
    try {
      const bytes = await readFile(join(dir, file));
      cache.set(file, bytes);
      return bytes;
    } catch (error) {
      throw new HttpProblem('not_found', `the console is not built (${join(dir, file)}: ${(error as Error).message}); run npm run build`, { file });
    }
  };
  app.get('/', { schema: pageSchema }, async (_request, reply) => reply.type(TYPES['index.html']).header('cache-control', 'no-cache').send(await asset('index.html')));
  app.get('/console/:file', { schema: assetSchema }, async (request, reply) => {
    const { file } = request.params as { file: string };
    return reply.type(TYPES[file]).header('cache-control', 'no-cache').send(await asset(file));
  });
}
