// Builds the web console (issue 22) into static assets: app.js (Preact and uPlot
// bundled in, nothing fetched from a CDN at run time), tap-worker.js, app.css
// and index.html.
// Run by `npm run build` (so by `npm start`'s prestart) and by the browser tests'
// helper; the gateway only serves what this wrote (gateways/http/routes/console.ts), so a
// production install needs no bundler at run time.

import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` puts the console: beside dist/switchboard.mjs. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));
const ENTRIES = {
  app: fileURLToPath(new URL('./app/main.tsx', import.meta.url)),
  'tap-worker': fileURLToPath(new URL('./app/tap-worker.ts', import.meta.url)),
};

export const CONSOLE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard console</title><link rel="stylesheet" href="/console/app.css"></head>
<body><div id="root"></div><script type="module" src="/console/app.js"></script></body></html>
`;

export class ConsoleBuildError extends Error {
  constructor(readonly outdir: string, cause: unknown) {
    super(`cannot build the console into ${outdir}`, { cause });
    this.name = 'ConsoleBuildError';
  }
}

/** Bundle the console into `outdir` (created if missing). Resolves with the directory. */
export async function buildConsole(outdir: string = DEFAULT_CONSOLE_DIR): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  try {
    await build({
      entryPoints: ENTRIES,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir,
      logLevel: 'warning',
    });
  } catch (error) {
    throw new ConsoleBuildError(outdir, error);
  }
  writeFileSync(join(outdir, 'index.html'), CONSOLE_HTML);
  return outdir;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole(process.argv[2]);
}
