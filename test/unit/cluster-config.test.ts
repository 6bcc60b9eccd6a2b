// Cluster mode settings: --nats-* flags, SWITCHBOARD_NATS_* variables and
// config file keys become one ClusterConfig; credentials in URLs; replica
// defaults filled into stream creates that leave them unset.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withDefaultReplicas } from '../../core/broker/stream-replicas.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import type { SwitchboardConfig } from '../../core/config/switchboard-config.ts';

function config(argv: string[], env: NodeJS.ProcessEnv = {}): SwitchboardConfig {
  const loaded = loadConfig(argv, env);
  assert.equal(loaded.kind, 'config');
  return (loaded as { config: SwitchboardConfig }).config;
}

describe('cluster config', () => {
  it('cluster config - no nats_url is embedded mode', () => {
    assert.equal(config([]).cluster, null);
  });

  it('cluster config - several URLs, flags for credentials and replicas', () => {
    const c = config(['--nats-url', 'nats://h1:4222, nats://h2:4222,h3:4222', '--nats-user', 'u', '--nats-pass', 'p', '--stream-replicas', '3']).cluster;
    assert.deepEqual(c, { servers: ['nats://h1:4222', 'nats://h2:4222', 'nats://h3:4222'], user: 'u', pass: 'p', streamReplicas: 3 });
  });

  it('cluster config - credentials in the URL: user:pass or a token; flags win', () => {
    assert.deepEqual(config(['--nats-url', 'nats://u:p%40ss@h1:4222,nats://u:p%40ss@h2:4222']).cluster, { servers: ['nats://h1:4222', 'nats://h2:4222'], user: 'u', pass: 'p@ss', streamReplicas: 1 });
    assert.deepEqual(config(['--nats-url', 'nats://s3cret@h1:4222']).cluster, { servers: ['nats://h1:4222'], token: 's3cret', streamReplicas: 1 });
    assert.deepEqual(config(['--nats-url', 'nats://u:p@h1:4222', '--nats-token', 't']).cluster, { servers: ['nats://h1:4222'], token: 't', streamReplicas: 1 });
    assert.throws(() => config(['--nats-url', 'nats://a:b@h1,nats://c:d@h2']), /different credentials/);
  });

  it('cluster config - environment and config file, flags over environment over file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-config-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'nats_url: [nats://f1:4222, nats://f2:4222]\nstream_replicas: 3\nnats_token: ft\n');
      assert.deepEqual(config(['-c', file]).cluster, { servers: ['nats://f1:4222', 'nats://f2:4222'], token: 'ft', streamReplicas: 3 });
      assert.deepEqual(config(['-c', file], { SWITCHBOARD_NATS_URL: 'nats://e1:4222', SWITCHBOARD_STREAM_REPLICAS: '2' }).cluster, { servers: ['nats://e1:4222'], token: 'ft', streamReplicas: 2 });
      assert.deepEqual(config(['-c', file, '--stream-replicas', '1'], { SWITCHBOARD_STREAM_REPLICAS: '2' }).cluster?.streamReplicas, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cluster config - TLS from a tls:// URL or certificate files; files must be readable', () => {
    assert.deepEqual(config(['--nats-url', 'tls://h1:4222']).cluster?.tls, {});
    const dir = mkdtempSync(join(tmpdir(), 'cluster-tls-'));
    try {
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, 'x');
      assert.deepEqual(config(['--nats-url', 'nats://h1:4222', '--nats-tls-ca', ca]).cluster?.tls, { caFile: ca });
      assert.throws(() => config(['--nats-url', 'nats://h1', '--nats-tls-cert', ca]), /invalid "--nats-tls-cert": a client certificate needs both/);
      assert.throws(() => config(['--nats-url', 'nats://h1', '--nats-tls-ca', join(dir, 'none.pem')]), /invalid "--nats-tls-ca": cannot read .*ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cluster config - errors name the flag, variable or key', () => {
    assert.throws(() => config(['--stream-replicas', '3']), /command line: invalid "--stream-replicas": only applies in cluster mode/);
    assert.throws(() => config([], { SWITCHBOARD_NATS_TOKEN: 't' }), /environment: invalid "SWITCHBOARD_NATS_TOKEN": only applies in cluster mode/);
    assert.throws(() => config(['--nats-url', 'nats://h1', '--stream-replicas', '0']), /invalid "--stream-replicas": must be a whole number from 1 to 5/);
    assert.throws(() => config(['--nats-url', 'http://h1:80']), /invalid "--nats-url": "http:\/\/h1:80": scheme must be nats:\/\/ or tls:\/\//);
    assert.throws(() => config(['--nats-url', ' , ']), /invalid "--nats-url": names no server/);
    assert.throws(() => config(['--nats-url', 'nats://h1', '--nats-user', 'u']), /command line: invalid "--nats-user": needs nats_pass too/);
    assert.throws(() => config(['--nats-url', 'nats://h1', '--nats-user', 'u', '--nats-pass', 'p', '--nats-token', 't']), /invalid "--nats-token": cannot be combined/);
  });

  it('cluster config - stream creates without num_replicas get the default; explicit counts and other requests pass unchanged', () => {
    const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    const dec = (b: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(b));
    assert.deepEqual(dec(withDefaultReplicas('$JS.API.STREAM.CREATE.S', enc({ name: 'S' }), 3)), { name: 'S', num_replicas: 3 });
    assert.deepEqual(dec(withDefaultReplicas('$JS.API.STREAM.CREATE.S', enc({ name: 'S', num_replicas: 0 }), 3)), { name: 'S', num_replicas: 3 });
    const explicit = enc({ name: 'S', num_replicas: 1 });
    assert.equal(withDefaultReplicas('$JS.API.STREAM.CREATE.S', explicit, 3), explicit);
    const update = enc({ name: 'S' });
    assert.equal(withDefaultReplicas('$JS.API.STREAM.UPDATE.S', update, 3), update);
    assert.equal(withDefaultReplicas('$JS.API.STREAM.CREATE.S', update, 1), update);
  });
});
