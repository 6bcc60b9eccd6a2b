// One nats-server configuration file, in nats-server's own syntax: Debian's
// nats-server must accept it (`nats-server -t`) and Switchboard must read the
// same values from it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from '../helpers/peer-test.ts';
import { loadConfig } from '../../core/config/load-config.ts';

const CONF = `# shared parts of a nats-server configuration
PW: "pw"
listen: 127.0.0.1:4999
http_port: 8999
server_name: edge-1
max_payload: 2MB
max_connections: 100
ping_interval: "30s"
ping_max: 3
write_deadline: "3s"
authorization {
  users = [
    {user: app, password: $PW, permissions: {
      publish: {allow: ["a.>"], deny: "a.b"}
      subscribe: ["_INBOX.>", "jobs.* workers"]
      allow_responses: {max: 2, expires: "1m"}
    }}
    {user: admin, password: "$2a$11$8NyEZJ6Lc0EVZ4VxPQHT4OXlpk/Kz7Hq1KlLdUZXQgYw8Pq/5YJSi"}
  ]
  timeout: 1.5
}
no_auth_user: app
jetstream {
  store_dir: "/tmp/switchboard-conf-test"
  max_file_store: 1GB
}
debug: true
`;

describe('config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-conf-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, CONF);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('config - nats-server accepts the file', { peers: ['nats-server'] }, () => {
    const r = spawnSync('nats-server', ['-c', file, '-t'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  it('config - Switchboard reads the same values from it', () => {
    const loaded = loadConfig(['-c', file], {});
    assert.equal(loaded.kind, 'config');
    if (loaded.kind !== 'config') return;
    const { server, monitor, auth, jetstream, log } = loaded.config;
    assert.equal(server.host, '127.0.0.1');
    assert.equal(server.port, 4999);
    assert.equal(server.serverName, 'edge-1');
    assert.equal(server.maxPayload, 2 * 1024 * 1024);
    assert.equal(server.maxConnections, 100);
    assert.equal(server.pingIntervalMs, 30_000);
    assert.equal(server.maxPingsOut, 3);
    assert.equal(server.writeDeadlineMs, 3_000);
    assert.equal(server.authTimeoutMs, 1_500);
    assert.deepEqual(monitor, { host: '127.0.0.1', port: 8999, required: true });
    assert.equal(auth?.noAuthUser, 'app');
    assert.deepEqual(auth?.users[0], {
      user: 'app',
      password: 'pw',
      permissions: {
        publish: { allow: ['a.>'], deny: ['a.b'] },
        subscribe: { allow: ['_INBOX.>', 'jobs.* workers'] },
        allowResponses: { maxMsgs: 2, expiresMs: 60_000 },
      },
    });
    assert.match(auth?.users[1].password ?? '', /^\$2a\$11\$/);
    assert.deepEqual(jetstream, { enabled: true, storeDir: '/tmp/switchboard-conf-test', maxFileStore: 1024 ** 3 });
    assert.equal(log.level, 'debug');
  });
});
