// DESIGN dependency rule for the Kafka connector: it sees the Broker port (and
// its typed errors), core/subject, core/auth and core/protocol/headers, plus
// kafkajs (types only: its values come from kafkajs-loader.ts) and Node
// built-ins; never the router's or the store's internals.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../helpers/servers.ts';

const DIR = join(PROJECT_ROOT, 'connectors/kafka');
const ALLOWED = [/^\.\/([a-z0-9-]+\/)?[a-z0-9-]+\.ts$/, /^\.\.\/\.\.\/core\/broker\/(broker|errors)\.ts$/, /^\.\.\/\.\.\/core\/protocol\/headers\.ts$/, /^\.\.\/\.\.\/core\/(subject|auth)\/[a-z0-9-]+\.ts$/, /^kafkajs$/, /^node:[a-z_/]+$/];

describe('kafka connector imports', () => {
  it('kafka imports - only the Broker port, core/subject, core/auth, headers, kafkajs and node built-ins', () => {
    const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 5);
    for (const file of files) {
      const source = readFileSync(join(DIR, file), 'utf8');
      for (const match of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        assert.ok(ALLOWED.some((rule) => rule.test(match[1])), `${file} imports ${match[1]}`);
        // kafkajs itself comes from kafkajs-loader.ts: a value import would load it before the loader's stand-ins.
        if (match[1] === 'kafkajs') assert.match(match[0], /^import type /, `${file} imports kafkajs's values; take them from kafkajs-loader.ts`);
      }
    }
  });
});
