// The `http_gateway` section's cors and sessions blocks: what they map to, and
// errors that name the key and the reason before anything listens.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../core/config/config-error.ts';
import { httpDescriptor } from '../../gateways/http/descriptor.ts';

describe('http gateway config', () => {
  it('http config - cors and sessions map to the gateway options', () => {
    const section = httpDescriptor.parse({ cors: { allowed_origins: ['https://app.example', 'http://127.0.0.1:5173/'], credentials: true, max_age: '5m' }, sessions: { max_age: '2h' } }, '127.0.0.1');
    assert.deepEqual(section.cors, { allowedOrigins: ['https://app.example', 'http://127.0.0.1:5173'], credentials: true, maxAgeSeconds: 300 });
    assert.deepEqual(section.sessions, { ttlMs: 7_200_000 });
    assert.deepEqual(httpDescriptor.parse({ cors: { allowed_origins: '*' } }, '127.0.0.1').cors, { allowedOrigins: '*', credentials: false, maxAgeSeconds: 600 });
    assert.equal(httpDescriptor.parse(undefined, '127.0.0.1').cors, undefined);
  });

  it('http config - bad cors and sessions blocks name the key and the reason', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ cors: { allowed_origins: '*', credentials: true } }, 'http_gateway.cors.allowed_origins', /cannot be combined with credentials/],
      [{ cors: { credentials: true } }, 'http_gateway.cors.allowed_origins', /required/],
      [{ cors: { allowed_origins: ['https://app.example/path'] } }, 'http_gateway.cors.allowed_origins[0]', /not an origin/],
      [{ cors: { allowed_origins: ['app.example'] } }, 'http_gateway.cors.allowed_origins[0]', /not an origin/],
      [{ cors: { allowed_origins: '*', methods: ['GET'] } }, 'http_gateway.cors.methods', /unknown key/],
      [{ sessions: { max_age: '10ms' } }, 'http_gateway.sessions.max_age', /at least 1s/],
      [{ sessions: { ttl: '1h' } }, 'http_gateway.sessions.ttl', /unknown key/],
      [{ cookies: true }, 'http_gateway.cookies', /unknown key/],
    ];
    for (const [raw, key, reason] of cases) {
      assert.throws(() => httpDescriptor.parse(raw, '127.0.0.1'), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.key, key);
        assert.match(error.reason, reason);
        return true;
      });
    }
  });
});
