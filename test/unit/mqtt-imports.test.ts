// DESIGN dependency rule for the MQTT gateway: the Broker port (and its typed
// errors), core/subject, core/auth, core/protocol/headers, the Connection seam,
// the JetStream client and stream subject index of core/kv (both only $JS.API
// requests over the Broker, shared with the HTTP gateway), mqtt-packet and Node
// built-ins; never the router's, JetStream's or a store's internals.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PROJECT_ROOT } from '../helpers/servers.ts';

const ROOT = join(PROJECT_ROOT, 'gateways/mqtt');
const CORE = ['broker/(broker|errors)', 'protocol/headers', 'server/connection', 'kv/(jetstream-client|stream-subject-index)', '(subject|auth)/[a-z0-9-]+'].join('|');
const ALLOWED = [
  /^\.\.?\/[a-z0-9-]+\.ts$/,
  /^\.\/handlers\/[a-z0-9-]+\.ts$/,
  new RegExp(`^(\\.\\./)+core/(${CORE})\\.ts$`),
  /^mqtt-packet$/,
  /^node:[a-z_/]+$/,
];

describe('mqtt gateway imports', () => {
  it('mqtt imports - only the Broker port, core/subject, core/auth, headers, the Connection seam, the core/kv JetStream client and stream index, mqtt-packet and node built-ins', () => {
    const files = [
      ...readdirSync(ROOT).filter((f) => f.endsWith('.ts')),
      ...readdirSync(join(ROOT, 'handlers')).filter((f) => f.endsWith('.ts')).map((f) => `handlers/${f}`),
    ];
    assert.ok(files.length > 10);
    for (const file of files) {
      const source = readFileSync(join(ROOT, file), 'utf8');
      for (const match of source.matchAll(/^import\s[^'"]*['"]([^'"]+)['"]/gm)) {
        assert.ok(ALLOWED.some((rule) => rule.test(match[1])), `${file} imports ${match[1]}`);
      }
    }
  });
});
