#!/usr/bin/env node
// The `switchboard` command (package.json "bin"): runs the production build
// (dist/switchboard.mjs, made by `npm run build`, which `npm start` runs
// first) when it is at least as new as every TypeScript source; otherwise
// (no build, or sources edited since) it registers tsx and runs the sources,
// so a stale build is never what runs. tsx is for development: it costs about
// 40 MB of memory and a slower start.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../../', import.meta.url);
const built = new URL('dist/switchboard.mjs', root);

/** The newest modification time of the .ts files under the source folders. */
function newestSource() {
  let newest = 0;
  for (const folder of ['core', 'gateways', 'connectors']) {
    for (const entry of readdirSync(new URL(folder, root), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

let main;
if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) {
  main = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  main = await import('../main.ts');
}
main.run(process.argv.slice(2));
