// DESIGN dependency rule for core/kv: it speaks only the JetStream API through
// the Broker port, so it works the same embedded and in cluster mode. It may
// import the Broker port (and its typed errors), core/protocol/headers,
// core/subject (pure subject matching, for the stream subject index), its own
// files and Node built-ins; never the router, the engine or a store.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../helpers/servers.ts';

const DIR = join(PROJECT_ROOT, 'core/kv');
const ALLOWED = [/^\.\/[a-z0-9-]+\.ts$/, /^\.\.\/broker\/(broker|errors)\.ts$/, /^\.\.\/protocol\/headers\.ts$/, /^\.\.\/subject\/subject\.ts$/, /^node:[a-z_/]+$/];

describe('core kv imports', () => {
  it('kv imports - only the Broker port, headers, core/subject, its own files and node built-ins', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 3);
    const seen = new Set<string>();
    for (const file of files) {
      const source = readFileSync(join(DIR, file), 'utf8');
      for (const match of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        seen.add(match[1]);
        assert.ok(ALLOWED.some((rule) => rule.test(match[1])), `core/kv/${file} imports ${match[1]}`);
      }
    }
    // the scan does see imports (a broken pattern would pass vacuously)
    assert.ok(seen.has('../broker/broker.ts'), [...seen].join(', '));
  });
});
