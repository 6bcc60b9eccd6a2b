// Configuration reload without restart (issue 21 item 3), against Switchboard
// and nats-server 2.9 as child processes with the same nats-server config file,
// each told to reload with its own `--signal reload=<pid>`: a user whose
// password changed is disconnected and must use the new one; a user whose
// permissions shrank keeps their connection, the new rules apply to it, and a
// subscription no longer allowed is removed; a broken file keeps the running
// configuration (and Switchboard logs the file, key and reason).

import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { Peer } from '../helpers/peers.ts';
import { PROJECT_ROOT, startNatsServer, startSwitchboardProcess, type RunningServer } from '../helpers/servers.ts';

/** The users: admin (everything), alice (rules shrink), bob (password changes). */
function usersConf(version: 1 | 2): string {
  const alice =
    version === 1
      ? '{ user: alice, password: a1, permissions: { publish: [">"], subscribe: ["orders.>", "audit.>", "_INBOX.>"] } }'
      : '{ user: alice, password: a1, permissions: { publish: ["orders.>"], subscribe: ["orders.>", "_INBOX.>"] } }';
  const bob = `{ user: bob, password: ${version === 1 ? 'b1' : 'b2'} }`;
  return `authorization {\n  users = [\n    { user: admin, password: admin }\n    ${alice}\n    ${bob}\n  ]\n}\n`;
}

interface ReloadTarget {
  name: string;
  peers?: readonly Peer[];
  /** Start with the config file at `file` (the listen address comes from flags). */
  start(file: string): Promise<RunningServer & { child: ChildProcess; output(): string }>;
  /** Send the reload signal the way its own command line does. */
  reload(pid: number): void;
}

/** Everything a child prints, kept for assertions on its log. */
function recordOutput(child: ChildProcess): () => string {
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return () => text;
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')}: ${r.stderr}`);
}

const targets: ReloadTarget[] = [
  {
    name: 'switchboard',
    async start(file) {
      const server = await startSwitchboardProcess(['-c', file, '--no_gateways', '--no_jetstream']);
      return { ...server, output: recordOutput(server.child) };
    },
    reload: (pid) => run(process.execPath, ['gateways/bin/switchboard.mjs', '--signal', `reload=${pid}`]),
  },
  {
    name: 'nats-server',
    peers: ['nats-server'],
    async start(file) {
      const server = await startNatsServer(["-c", file]);
      return { ...server, output: recordOutput(server.child) };
    },
    reload: (pid) => run('nats-server', ['--signal', `reload=${pid}`]),
  },
];

// Generous deadlines: the servers are child processes on a machine that may be busy (issue 27).
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function canConnect(url: string, user: string, pass: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, user, pass, reconnect: false, timeout: 10_000 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

/** Subjects a subscription received, in order. */
function collect(sub: Subscription): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const m of sub as AsyncIterable<Msg>) seen.push(m.subject);
  })().catch(() => {});
  return seen;
}

for (const target of targets) {
  describe(`config reload (${target.name})`, { peers: target.peers }, () => {
    let dir: string;
    let file: string;
    let server: RunningServer & { child: ChildProcess; output(): string };
    let admin: NatsConnection;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'reload-'));
      file = join(dir, 'users.conf');
      writeFileSync(file, usersConf(1));
      server = await target.start(file);
      admin = await connect({ servers: server.url, user: 'admin', pass: 'admin' });
    });
    after(async () => {
      await admin?.close();
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('config reload - a changed password closes its connections; shrunk permissions apply to a live connection and remove the subscription they no longer allow', async () => {
      const alice = await connect({ servers: server.url, user: 'alice', pass: 'a1', reconnect: false });
      const bob = await connect({ servers: server.url, user: 'bob', pass: 'b1', reconnect: false });
      const orders = collect(alice.subscribe('orders.>'));
      const auditSub = alice.subscribe('audit.>');
      const audit = collect(auditSub);
      const notes = collect(admin.subscribe('notes.>'));
      // Both SUBs must be at the server before alice publishes: each connection's flush waits for its own.
      await admin.flush();
      await alice.flush();
      alice.publish('notes.before');
      await alice.flush();
      admin.publish('audit.before');
      await admin.flush();
      await until(() => audit.length === 1 && notes.length === 1, 'alice is served under the first rules');

      writeFileSync(file, usersConf(2));
      target.reload(server.child.pid as number);
      await until(() => canConnect(server.url, 'bob', 'b2'), 'the new password is accepted');
      assert.equal(await canConnect(server.url, 'bob', 'b1'), false, 'the old password is refused');
      await until(() => bob.isClosed(), 'the connection authenticated with the old password is closed');
      // The subscription no longer allowed was removed, and the client was told.
      const closed = await Promise.race([auditSub.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), 30_000))]);
      assert.match(String(closed), /Permissions Violation for Subscription to "audit\.>"/);

      admin.publish('audit.after');
      admin.publish('orders.after');
      alice.publish('notes.after'); // no longer allowed: dropped, with an async -ERR
      alice.publish('orders.mine');
      await alice.flush();
      await admin.flush();
      await until(() => orders.includes('orders.mine'), 'alice still publishes what she may');
      assert.equal(alice.isClosed(), false, 'alice keeps her connection');
      assert.deepEqual([...orders].sort(), ['orders.after', 'orders.mine']);
      assert.deepEqual(audit, ['audit.before']);
      assert.deepEqual(notes, ['notes.before']);
      await alice.close();
    });

    /** Reload `text` and wait until the target logged that it failed; the log line is returned. */
    async function failedReload(text: string): Promise<string> {
      const failures = (): string[] => server.output().split('\n').filter((l) => /configuration reload failed|Failed to reload server configuration/.test(l));
      const before = failures().length;
      writeFileSync(file, text);
      target.reload(server.child.pid as number);
      await until(() => failures().length > before, 'the failed reload is logged');
      return failures()[before];
    }

    /** Still the second configuration: b2 works, b1 and b3 do not. */
    async function stillSecondConfiguration(): Promise<void> {
      assert.equal(await canConnect(server.url, 'bob', 'b2'), true);
      assert.equal(await canConnect(server.url, 'bob', 'b1'), false);
      assert.equal(await canConnect(server.url, 'bob', 'b3'), false);
    }

    it('config reload - a file that does not parse keeps the running configuration', async () => {
      const line = await failedReload(`${usersConf(2).replace('b2', 'b3')}\nauthorization {\n  users = [\n`);
      if (target.name === 'switchboard') assert.ok(line.includes(JSON.stringify(file)), line);
      await stillSecondConfiguration();
    });

    it('config reload - a change only a restart can make is refused, with the rest of the file', async () => {
      const line = await failedReload(`server_name: renamed\n${usersConf(2).replace('b2', 'b3')}`);
      assert.match(line, target.name === 'switchboard' ? /"key":"server_name".*cannot be changed by a reload/ : /config reload not supported for ServerName/);
      await stillSecondConfiguration();
    });

    if (target.name === 'switchboard') {
      it('config reload - an invalid value is logged with the file, the key and the reason', async () => {
        const line = await failedReload(usersConf(2).replace('b2', 'b3').replace('authorization {', 'authorization {\n  timeout: "nope"'));
        assert.ok(line.includes(`"file":${JSON.stringify(file)}`), line);
        assert.match(line, /"key":"authorization\.timeout"/);
        assert.match(line, /"reason":"must be a duration/);
        await stillSecondConfiguration();
      });
    }
  });
}
