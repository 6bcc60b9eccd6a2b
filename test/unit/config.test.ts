// Configuration: nats-server's file format, mapping to typed options,
// precedence (file < environment < flags) and the source named in errors.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../core/config/config-error.ts';
import { parseDurationMs } from '../../core/config/duration.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import { parseNatsConf } from '../../core/config/nats-conf.ts';
import { buildConfig } from '../../core/config/switchboard-config.ts';

describe('config', () => {
  it('config - reads nats-server syntax: separators, blocks, arrays, comments, sizes, variables', () => {
    const conf = parseNatsConf(
      [
        '# comment',
        'TOKEN: "abc"',
        'listen = 0.0.0.0:4333 // trailing comment',
        'max_payload: 2MB',
        'ping_interval "30s"',
        'authorization {',
        '  token: $TOKEN',
        '  timeout: 1.5',
        '}',
        'jetstream { store_dir: "/data/js", max_file_store: 1GB }',
        'debug: yes',
        'list: [a, "b c", 3]',
      ].join('\n'),
    );
    assert.deepEqual(conf, {
      listen: '0.0.0.0:4333',
      max_payload: 2 * 1024 * 1024,
      ping_interval: '30s',
      authorization: { token: 'abc', timeout: 1.5 },
      jetstream: { store_dir: '/data/js', max_file_store: 1024 ** 3 },
      debug: true,
      list: ['a', 'b c', 3],
    });
    assert.deepEqual(parseNatsConf('{"port": 1, "a": {"b": [true, null]}}'), { port: 1, a: { b: [true, null] } });
    assert.throws(() => parseNatsConf('a { b: 1'), /missing \}/);
  });

  it('config - maps nats-server keys to options with defaults', () => {
    const c = buildConfig({ listen: '0.0.0.0:4333', max_payload: '2MB', ping_interval: '30s', write_deadline: '2s', authorization: { token: 't', timeout: 3 }, jetstream: { store_dir: '/d' }, trace: true });
    assert.equal(c.server.host, '0.0.0.0');
    assert.equal(c.server.port, 4333);
    assert.equal(c.server.maxPayload, 2 * 1024 * 1024);
    assert.equal(c.server.pingIntervalMs, 30_000);
    assert.equal(c.server.writeDeadlineMs, 2_000);
    assert.equal(c.server.authTimeoutMs, 3_000);
    assert.equal(c.auth?.token, 't');
    assert.deepEqual(c.jetstream, { enabled: true, storeDir: '/d' });
    assert.equal(c.log.level, 'trace');
    // nats-server binds monitoring on the client address unless told otherwise.
    assert.deepEqual(c.monitor, { host: '0.0.0.0', port: 8222, required: false });
    const d = buildConfig({});
    assert.deepEqual(d.monitor, { host: '127.0.0.1', port: 8222, required: false });
    assert.deepEqual(buildConfig({ http_port: 9000 }).monitor, { host: '127.0.0.1', port: 9000, required: true });
    assert.equal(d.server.port, 4222);
    assert.equal(d.auth, undefined);
    assert.equal(buildConfig({ monitor: false }).monitor, null);
  });

  it('config - durations accept Go syntax and seconds', () => {
    assert.equal(parseDurationMs('1h30m', 'k'), 5_400_000);
    assert.equal(parseDurationMs('1.5s', 'k'), 1_500);
    assert.equal(parseDurationMs('250ms', 'k'), 250);
    assert.equal(parseDurationMs(2, 'k'), 2_000);
    assert.throws(() => parseDurationMs('2 minutes', 'k'), ConfigError);
  });

  it('config - flags override the environment, which overrides the file; errors name the source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
    try {
      const file = join(dir, 'c.json');
      writeFileSync(file, JSON.stringify({ port: 1111, server_name: 'from-file', max_connections: 5 }));
      const loaded = loadConfig(['-c', file, '-p', '3333'], { SWITCHBOARD_PORT: '2222', SWITCHBOARD_NAME: 'from-env' });
      assert.equal(loaded.kind, 'config');
      if (loaded.kind !== 'config') return;
      assert.equal(loaded.config.server.port, 3333);
      assert.equal(loaded.config.server.serverName, 'from-env');
      assert.equal(loaded.config.server.maxConnections, 5);
      assert.throws(() => loadConfig([], { SWITCHBOARD_CONFIG: file, SWITCHBOARD_LOG_LEVEL: 'loud' }), (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.source, 'environment');
        assert.equal(e.key, 'SWITCHBOARD_LOG_LEVEL');
        return true;
      });
      writeFileSync(file, JSON.stringify({ max_connections: 0 }));
      assert.throws(() => loadConfig(['-c', file], {}), (e: unknown) => e instanceof ConfigError && e.source === file && e.key === 'max_connections');
      assert.deepEqual(loadConfig(['-js', '-sd', '/x'], {}).kind === 'config' && (loadConfig(['-js', '-sd', '/x'], {}) as { config: { jetstream: unknown } }).config.jetstream, { enabled: true, storeDir: '/x' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
