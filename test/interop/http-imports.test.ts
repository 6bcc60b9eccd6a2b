// DESIGN dependency rule for the HTTP gateway: the Broker port (and its typed
// errors), the JetStream/KV client helpers of core/kv, core/subject, core/auth
// and core/protocol/headers, plus fastify, openapi-types and Node built-ins;
// never the router, the engine or the store. JetStream, KV, objects and
// consumers go through $JS.API requests only.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../helpers/servers.ts';

const ROOT = join(PROJECT_ROOT, 'gateways/http');
const CORE_ALLOWED = /^core\/(broker\/(broker|errors)|protocol\/headers|kv\/[a-z0-9-]+|subject\/[a-z0-9-]+|auth\/[a-z0-9-]+)\.ts$/;
const PACKAGES = new Set(['fastify', 'openapi-types']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('http gateway imports', () => {
  it('http imports - only the Broker port, core/kv, core/subject, core/auth, headers, fastify and node built-ins', () => {
    const files = sources(ROOT);
    assert.ok(files.length > 10);
    const seen = new Set<string>();
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
        const spec = match[1];
        const where = relative(PROJECT_ROOT, file);
        if (spec.startsWith('node:') || PACKAGES.has(spec)) continue;
        assert.ok(spec.startsWith('.'), `${where} imports package ${spec}`);
        const target = relative(PROJECT_ROOT, join(file, '..', spec));
        seen.add(target);
        assert.ok(target.startsWith('gateways/http/') || CORE_ALLOWED.test(target), `${where} imports ${target}`);
      }
    }
    // the scan does see imports (a broken pattern would pass vacuously)
    assert.ok(seen.has('core/broker/broker.ts') && seen.has('gateways/http/errors.ts'), [...seen].join(', '));
  });
});
