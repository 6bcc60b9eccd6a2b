// The switchboard command as a child process: --help, invalid configuration
// (exit 1, key and reason, before any listener opens), config files in JSON,
// YAML and nats-server format, environment variables, debug/trace logs and
// graceful shutdown on SIGTERM.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { RawClient } from '../helpers/raw-client.ts';
import { freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';

const BIN = join(PROJECT_ROOT, 'gateways/bin/switchboard.mjs');

function runSync(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function start(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, [BIN, ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Everything the child prints, from the start, and a bounded wait for a marker in it. */
function record(child: ReturnType<typeof start>): { text(): string; waitFor(marker: string, timeoutMs?: number): Promise<string> } {
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return {
    text: () => out,
    async waitFor(marker, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(marker)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${marker}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    },
  };
}

describe('command line', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('cli - --help prints usage with the nats-server style flags and exits 0', () => {
    const r = runSync(['--help']);
    assert.equal(r.status, 0);
    for (const flag of ['--addr', '--port', '--http_port', '--user', '--pass', '--auth', '--config', '-js', '--store_dir', '--tlsverify', '--trace']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
  });

  it('cli - invalid configuration exits 1 naming the key and reason, before any listener opens', async () => {
    // Hold the port: if switchboard listened before validating, it would fail with EADDRINUSE instead.
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const held = String((holder.address() as { port: number }).port);
    try {
      const cases: Array<[string[], Record<string, string>, RegExp]> = [
        [['-p', held, '--bogus'], {}, /invalid "--bogus": Unknown option/],
        [['-p', '70000'], {}, /command line: invalid "--port": must be a whole number from 0 to 65535/],
        [['-p', held], { SWITCHBOARD_HTTP_PORT: 'x' }, /environment: invalid "SWITCHBOARD_HTTP_PORT": must be a whole number/],
        [['-p', held, '--user', 'a'], {}, /invalid "--pass": is required/],
        [['-p', held, '--tlscert', join(dir, 'missing.pem'), '--tlskey', join(dir, 'missing.key')], {}, /invalid "--tlscert": cannot read .*ENOENT/],
        [['-p', held, '-c', file('bad-user.json', '{"authorization":{"users":[{"user":"a","password":"p","permissions":{"publish":["a..b"]}}]}}')], {},
          /bad-user\.json: invalid "authorization\.users\[0\]\.permissions\.publish\[0\]": "a\.\.b" is not a valid subject/],
        [['-p', held, '-c', file('bad.yaml', 'max_payload: 100MB\n')], {}, /bad\.yaml: invalid "max_payload": must be from 1 byte to 64MB/],
        [['-p', held, '-c', file('bad.conf', 'cluster { port: 6222 }\n')], {}, /bad\.conf: invalid "cluster": is a nats-server feature Switchboard does not implement/],
        [['-p', held, '-c', file('typo.json', '{"max_paylod": 5}')], {}, /typo\.json: invalid "max_paylod": unknown key/],
        [['-p', held, '-c', file('syntax.json', '{"port": 1,')], {}, /syntax\.json is not valid JSON/],
        [['-p', held, '-c', join(dir, 'absent.conf')], {}, /cannot read .*absent\.conf: ENOENT/],
        [['-p', held, '-c', file('both.json', '{"authorization":{"token":"t","users":[{"user":"a","password":"p"}]}}')], {}, /invalid "authorization\.token": cannot be combined with users/],
        [['-p', held, '-c', file('noauth.json', '{"authorization":{"users":[{"user":"a","password":"p"}]},"no_auth_user":"b"}')], {}, /invalid "no_auth_user": "b" is not one of the configured users/],
        [['-p', held, '-c', file('pending.json', '{"max_payload": 2048, "max_pending": 1024}')], {}, /invalid "max_pending": must be at least max_payload/],
        [['-p', held, '-c', file('dur.json', '{"ping_interval": "soon"}')], {}, /invalid "ping_interval": must be a duration/],
        [['-p', held, '--tls', '--tlscert', file('c.pem', 'x'), '--tlskey', file('k.pem', 'y')], {}, /invalid "tls": certificate, key or CA not usable/],
        [['-p', held, '--kafka-brokers', 'h:9092'], {}, /invalid "kafka": kafka bridge: mappings: must be a list/],
        [['-p', held, '--kafka-mapping', '{"name":'], {}, /command line: invalid "--kafka-mapping": is not JSON/],
        [['-p', held, '--kafka-brokers', 'h:9092', '--kafka-mapping', '{"name":"bad","direction":"nats-to-kafka","subject":"x","topic":"t.{9}"}'], {},
          /invalid "kafka": kafka bridge: mapping "bad": mappings\[0\]\.topic: \{9\}/],
        [['-p', held, '--kafka-mapping', '{"name":"a","direction":"nats-to-kafka","subject":"x","topic":"t"}'], { SWITCHBOARD_KAFKA_BROKERS: 'nohostport' }, /kafka\.brokers\[0\]: "nohostport" is not host:port/],
      ];
      for (const [args, env, expected] of cases) {
        const r = runSync(args, env);
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, expected, args.join(' '));
        assert.doesNotMatch(r.stderr, /EADDRINUSE/);
      }
    } finally {
      holder.close();
    }
  });

  it('cli - an explicitly requested monitoring port that is taken stops startup with exit 1', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    try {
      const r = runSync(['-p', '0', '-m', String((holder.address() as { port: number }).port)]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /EADDRINUSE/);
    } finally {
      holder.close();
    }
  });

  for (const [name, make] of [
    ['JSON', (port: number) => file('ok.json', JSON.stringify({ port, http_port: 0, authorization: { users: [{ user: 'app', password: 'pw' }] } }))],
    ['YAML', (port: number) => file('ok.yaml', `port: ${port}\nhttp_port: 0\nauthorization:\n  users:\n    - user: app\n      password: pw\n`)],
    ['nats-server format', (port: number) => file('ok.conf', `# nats-server syntax\nPW: pw\nport = ${port}\nhttp_port: 0\nauthorization {\n  users = [ {user: app, password: $PW} ]\n}\n`)],
  ] as const) {
    it(`cli - a ${name} config file sets the port and users`, async () => {
      const port = await freePort();
      const child = start(['-c', make(port)]);
      try {
        await waitForOutput(child, 'NATS listening');
        const nc = await connect({ servers: `127.0.0.1:${port}`, user: 'app', pass: 'pw', reconnect: false });
        await nc.flush();
        await nc.close();
        await assert.rejects(connect({ servers: `127.0.0.1:${port}`, user: 'app', pass: 'wrong', reconnect: false }));
      } finally {
        await stopChild(child);
      }
    });
  }

  it('cli - environment variables configure the server and flags override them', async () => {
    const envPort = await freePort();
    const flagPort = await freePort();
    const child = start(['-p', String(flagPort)], { SWITCHBOARD_PORT: String(envPort), SWITCHBOARD_HTTP_PORT: '0', SWITCHBOARD_AUTH: 'tok' });
    try {
      const out = await waitForOutput(child, 'NATS listening');
      assert.match(out, new RegExp(`NATS listening on 127\\.0\\.0\\.1:${flagPort}`));
      const nc = await connect({ servers: `127.0.0.1:${flagPort}`, token: 'tok', reconnect: false });
      await nc.close();
    } finally {
      await stopChild(child);
    }
  });

  it('cli - -DV logs connections and traces protocol operations', async () => {
    const port = await freePort();
    const child = start(['-p', String(port), '-m', '0', '-DV']);
    const log = record(child);
    try {
      await log.waitFor('NATS listening');
      const c = await RawClient.connect(port);
      c.send('CONNECT {"verbose":false,"pass":"secret"}\r\n');
      await c.roundTrip('SUB trace.me 1\r\nPUB trace.me 2\r\nhi\r\n');
      const out = await log.waitFor('->> [MSG trace.me 1 2]');
      assert.match(out, /client connection created/);
      assert.match(out, /<<- \[SUB trace\.me 1\]/);
      assert.match(out, /<<- \[PUB trace\.me 2\]/);
      assert.doesNotMatch(out, /secret/, 'passwords are redacted in traces');
      c.close();
      await log.waitFor('client connection closed');
    } finally {
      await stopChild(child);
    }
  });

  it('cli - SIGTERM stops accepting, delivers what clients are owed, and exits 0', async () => {
    const port = await freePort();
    const child = start(['-p', String(port), '-m', '0']);
    await waitForOutput(child, 'NATS listening');
    const sub = await RawClient.connect(port);
    const pub = await RawClient.connect(port);
    try {
      await sub.roundTrip('CONNECT {"verbose":false}\r\nSUB bulk 1\r\n');
      const payload = 'x'.repeat(1000);
      const count = 2000;
      let batch = 'CONNECT {"verbose":false}\r\n';
      for (let i = 0; i < count; i++) batch += `PUB bulk ${payload.length}\r\n${payload}\r\n`;
      await pub.roundTrip(batch);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const received = await sub.waitClosed(10_000);
      const msgs = received.split('MSG bulk 1 1000\r\n').length - 1;
      assert.equal(msgs, count, 'every message published before the signal arrives');
      const [code] = await exited;
      assert.equal(code, 0);
      await assert.rejects(RawClient.connect(port), /ECONNREFUSED/);
    } finally {
      sub.close();
      pub.close();
      await stopChild(child);
    }
  });
});
