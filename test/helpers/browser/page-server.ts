// Serves a test page on 127.0.0.1: one HTML document and one script that
// esbuild bundles from a TypeScript entry with the real npm clients, so the
// browser runs the same client code a web app would ship.

import { build } from 'esbuild';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PageServer {
  /** `http://127.0.0.1:port`: also the page's Origin. */
  readonly origin: string;
  stop(): Promise<void>;
}

export async function bundleForBrowser(entryPoint: string): Promise<string> {
  const result = await build({
    entryPoints: [entryPoint],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // nats.ws bundles tweetnacl, whose Node-only fallback `require('crypto')` is never
    // reached in a browser (it has crypto.getRandomValues).
    external: ['crypto'],
  });
  return result.outputFiles[0].text;
}

export async function servePage(title: string, entryPoint: string): Promise<PageServer> {
  const script = await bundleForBrowser(entryPoint);
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1><p id="status">not connected</p><ul id="received"></ul>
<script type="module" src="/app.js"></script></body></html>`;
  const server: Server = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    } else if (request.url === '/' || request.url === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
