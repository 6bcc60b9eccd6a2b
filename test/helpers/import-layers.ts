// The import scanner behind test/unit/import-layers.test.ts: DESIGN.md's
// "Dependency rule" as data, checked over source files given as text, so a
// test can feed it a synthetic tree with a violation and see it reported.
//
// Layers, bottom up (an import may stay on its level or go down, never up):
//   0 core/subject, core/protocol, core/config
//   1 core/auth
//   2 core/connection (the Connection seam)
//   3 core/server (router, clients, listeners, monitoring), core/leafnode (leaf links on the router)
//   4 core/jetstream (the engine)
//   5 core/broker (the Broker port) and the JetStream client library
//   6 core/create-core.ts
//   7 connectors/<name>/, gateways/<name>/ and what they share (gateways/descriptor.ts, listener-section.ts)
//   8 the composition root: gateways/main.ts, registry.ts, create-gateways.ts, config-reload.ts, process-signal.ts
// Gateways and connectors (level 7) reach into core only through the Broker
// port, the Connection seam, core/subject, core/auth, the JetStream client
// library and core/config's extension API; never the router's, the engine's
// or a store's internals.

import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

export interface SourceFile {
  /** Relative to the project root, with forward slashes: `gateways/mqtt/session.ts`. */
  readonly path: string;
  readonly source: string;
}

/** The client-side JetStream library (speaks only the JetStream API over the Broker port). */
const JETSTREAM_CLIENT = /^core\/jetstream-client\//;

/** What level 7 may import from core/ (DESIGN "Dependency rule"). */
const EDGE_MAY_IMPORT = [
  /^core\/broker\/(broker|errors|headers)\.ts$/, // the Broker port, its errors and headers
  /^core\/connection\//, // the Connection seam
  /^core\/(subject|auth)\//,
  JETSTREAM_CLIENT,
  /^core\/config\/(config-error|config-extension|setting-values|size|tls-options|auth-options|duration)\.ts$/, // the extension API a descriptor plugs into (a section's tls {} and authorization {} blocks, sizes and durations too)
];

/** Files allowed one crossing the levels forbid, each with its reason; `typeOnly` ones must be `import type`. */
const EXCEPTIONS: ReadonlyArray<{ from: string; to: RegExp; typeOnly: boolean; why: string }> = [
  {
    from: 'gateways/descriptor.ts',
    to: /^core\/server\/(logger|monitoring\/(monitor-context|connection-source|prometheus-text))\.ts$/,
    typeOnly: true,
    why: 'the shapes of the logger a component gets and of the monitor extension (connections, varz, series) it adds',
  },
  {
    from: 'gateways/http/console/app/tap.tsx',
    to: /^gateways\/mqtt\/topic-mapping\.ts$/,
    typeOnly: false,
    why: "the console's subject tap turns an MQTT topic filter into subjects with the MQTT gateway's own mapping (bundled into the browser code)",
  },
];

/** npm packages a folder may import (folders not listed may import any); node: built-ins are always allowed. */
const PACKAGES: ReadonlyArray<{ folder: string; packages: readonly string[]; typeOnly?: readonly string[] }> = [
  { folder: 'gateways/mqtt/', packages: ['mqtt-packet'] },
  // The web console: browser code (Preact, uPlot) bundled by esbuild at build time (issue 22). Before gateways/http/: the first match applies.
  { folder: 'gateways/http/console/', packages: ['preact', 'uplot', 'esbuild'] },
  // The fastify plugins for CORS, cookies and per-user rate limits (issue 26); fastify's own validator compiler, used lazily (issue 29 item 6).
  { folder: 'gateways/http/', packages: ['fastify', 'openapi-types', '@fastify/cors', '@fastify/cookie', '@fastify/rate-limit', '@fastify/ajv-compiler'] },
  // kafkajs's values come from kafkajs-loader.ts: a value import would load it before the loader's stand-ins.
  { folder: 'connectors/kafka/', packages: ['kafkajs'], typeOnly: ['kafkajs'] },
  { folder: 'core/jetstream-client/', packages: [] },
];

const COMPOSITION_ROOT = new Set(['gateways/main.ts', 'gateways/registry.ts', 'gateways/create-gateways.ts', 'gateways/config-reload.ts', 'gateways/process-signal.ts', 'gateways/stop-signals.ts']);
const EDGE_SHARED = new Set(['gateways/descriptor.ts', 'gateways/listener-section.ts']);

/** The level of a project file, or null for files outside the rule (tests, scripts). */
export function levelOf(path: string): number | null {
  if (/^core\/(subject|protocol|config)\//.test(path)) return 0;
  if (path.startsWith('core/auth/')) return 1;
  if (path.startsWith('core/connection/')) return 2;
  if (path.startsWith('core/server/') || path.startsWith('core/leafnode/')) return 3;
  if (path.startsWith('core/jetstream/')) return 4;
  if (path.startsWith('core/broker/') || JETSTREAM_CLIENT.test(path)) return 5;
  if (path === 'core/create-core.ts') return 6;
  if (COMPOSITION_ROOT.has(path)) return 8;
  if (EDGE_SHARED.has(path) || /^(gateways|connectors)\/[a-z0-9-]+\//.test(path)) return 7;
  if (path.startsWith('core/') || path.startsWith('gateways/') || path.startsWith('connectors/')) return -1; // a new place: must be given a level
  return null;
}

export interface ImportEdge {
  readonly from: string;
  /** A project path (resolved) or a package name. */
  readonly to: string;
  readonly typeOnly: boolean;
}

/** Every static import and re-export of a file, resolved against its folder. */
export function importsOf(file: SourceFile): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const match of file.source.matchAll(/^(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm)) {
    const spec = match[3] ?? match[4];
    const to = spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(file.path), spec)) : spec;
    edges.push({ from: file.path, to, typeOnly: match[2] !== undefined });
  }
  return edges;
}

function packageName(spec: string): string {
  return spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
}

/** One line per import that breaks the rule: `<from> imports <to>: <why>`. */
export function layerViolations(files: readonly SourceFile[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    const level = levelOf(file.path);
    if (level === null) continue;
    if (level < 0) {
      out.push(`${file.path}: not in any layer of the dependency rule (give its folder a level in test/helpers/import-layers.ts)`);
      continue;
    }
    for (const edge of importsOf(file)) {
      const isProject = /^(core|gateways|connectors)\//.test(edge.to);
      if (!isProject) {
        if (edge.to.startsWith('node:') || edge.to.startsWith('.')) continue;
        const rule = PACKAGES.find((p) => file.path.startsWith(p.folder));
        if (rule === undefined) continue;
        const name = packageName(edge.to);
        if (!rule.packages.includes(name)) out.push(`${file.path} imports ${edge.to}: ${rule.folder} may import only ${rule.packages.join(', ') || 'no package'} and node built-ins`);
        else if (rule.typeOnly?.includes(name) && !edge.typeOnly) out.push(`${file.path} imports ${edge.to}'s values: only its types may be imported here`);
        continue;
      }
      const target = levelOf(edge.to);
      if (target === null || target < 0) continue; // reported where that file itself is scanned
      const exception = EXCEPTIONS.find((e) => e.from === file.path && e.to.test(edge.to));
      if (exception !== undefined) {
        if (exception.typeOnly && !edge.typeOnly) out.push(`${file.path} imports ${edge.to}: allowed for types only (${exception.why})`);
        continue;
      }
      if (target > level) {
        out.push(`${file.path} imports ${edge.to}: level ${level} imports upward (level ${target})`);
        continue;
      }
      const sameTop = (a: string, b: string): boolean => a.split('/').slice(0, 2).join('/') === b.split('/').slice(0, 2).join('/');
      if (level === 7 && edge.to.startsWith('core/') && !EDGE_MAY_IMPORT.some((rule) => rule.test(edge.to))) {
        out.push(`${file.path} imports ${edge.to}: gateways and connectors see only the Broker port, the Connection seam, core/subject, core/auth, the JetStream client library and core/config's extension API`);
      } else if (level === 7 && /^(gateways|connectors)\/[a-z0-9-]+\//.test(edge.to) && !sameTop(file.path, edge.to) && !EDGE_SHARED.has(edge.to)) {
        out.push(`${file.path} imports ${edge.to}: one gateway or connector does not import another's files (the registry wires them)`);
      }
    }
  }
  return out;
}

/** Every .ts file under core/, gateways/ and connectors/ of the project. */
export function projectSources(root: string): SourceFile[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return walk(path);
      return /\.tsx?$/.test(entry.name) ? [path] : [];
    });
  return ['core', 'gateways', 'connectors'].flatMap(walk).map((path) => ({ path: relative('.', path), source: readFileSync(join(root, path), 'utf8') }));
}
