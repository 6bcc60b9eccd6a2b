// Authentication and permissions over the NATS protocol, run against
// Switchboard and Debian's nats-server from the same configuration: the shared
// permission table, the exact -ERR texts, allow_responses and deny-inside-a-
// wildcard delivery filtering.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { configuredTargets } from '../helpers/auth-targets.ts';
import { natsAdapter, natsOverTcp } from '../helpers/permission-adapters.ts';
import { PASSWORDS, describePermissionTable, permissionConfig } from '../helpers/permission-table.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { RunningServer } from '../helpers/servers.ts';

function connectLine(fields: Record<string, unknown>): string {
  return `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, ...fields })}\r\n`;
}

for (const target of configuredTargets()) {
  describe(`auth (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    const clients: RawClient[] = [];
    before(async () => {
      server = await target.start(permissionConfig());
    });
    after(async () => {
      for (const c of clients) c.close();
      await server.stop();
    });
    const adapter = natsAdapter('nats', () => natsOverTcp(server.port));

    async function raw(fields: Record<string, unknown>): Promise<RawClient> {
      const c = await RawClient.connect(server.port);
      clients.push(c);
      c.send(connectLine(fields));
      return c;
    }

    it('auth - with no_auth_user, INFO does not announce auth_required', async () => {
      const c = await RawClient.connect(server.port, { readInfo: false });
      clients.push(c);
      const info = JSON.parse((await c.readUntil('\r\n')).slice(5));
      assert.equal(info.auth_required, undefined);
    });

    it('auth - with no_auth_user, operations before CONNECT run as that user', async () => {
      const c = await RawClient.connect(server.port);
      clients.push(c);
      assert.equal(await c.roundTrip('SUB private.x 1\r\n'), `-ERR 'Permissions Violation for Subscription to "private.x"'\r\n`);
      // Verbose is nats-server's default until a CONNECT says otherwise.
      assert.equal(await c.roundTrip('SUB public.x 2\r\n'), '+OK\r\n');
    });

    for (const [label, fields] of [
      ['a wrong password', { user: 'admin', pass: 'nope' }],
      ['an unknown user', { user: 'mallory', pass: 'admin-pw' }],
      ['a bcrypt user with a wrong password', { user: 'service', pass: 'wrong' }],
      ['a token where users are configured', { auth_token: 'admin-pw' }],
    ] as const) {
      it(`auth - ${label} gets Authorization Violation and is closed`, async () => {
        const c = await raw(fields);
        assert.equal(await c.waitClosed(), "-ERR 'Authorization Violation'\r\n");
      });
    }

    // The counter is Switchboard's (/metrics); nats-server has no varz field for it.
    if (target.name === 'switchboard') {
      it('auth - failed authentications are counted', async () => {
        const stats = (server as RunningServer & { server: { stats: { authFailures: number } } }).server.stats;
        const before = stats.authFailures;
        const c = await raw({ user: 'admin', pass: 'nope' });
        await c.waitClosed();
        assert.equal(stats.authFailures, before + 1);
      });
    }

    it('auth - a bcrypt password is accepted', async () => {
      const c = await raw({ user: 'service', pass: PASSWORDS.service });
      assert.equal(await c.roundTrip(), '');
    });

    // The shared table, one test per case (its sessions close after the last).
    describePermissionTable(`nats, ${target.name}`, () => adapter);

    it('permissions - allow_responses lets a service answer each request once, and nothing else', async () => {
      const service = await raw({ user: 'service', pass: PASSWORDS.service });
      await service.roundTrip('SUB svc.echo 1\r\n');
      const requester = await raw({ user: 'admin', pass: PASSWORDS.admin });
      await requester.roundTrip('SUB _INBOX.r1 1\r\n');
      await requester.roundTrip('PUB svc.echo _INBOX.r1 4\r\nping\r\n');
      assert.equal(await service.readUntil('ping\r\n'), 'MSG svc.echo 1 _INBOX.r1 4\r\nping\r\n');
      assert.equal(await service.roundTrip('PUB _INBOX.r1 4\r\npong\r\n'), '');
      assert.equal(await requester.readUntil('pong\r\n'), 'MSG _INBOX.r1 1 4\r\npong\r\n');
      // The default max is one response per request.
      assert.equal(await service.roundTrip('PUB _INBOX.r1 1\r\nx\r\n'), `-ERR 'Permissions Violation for Publish to "_INBOX.r1"'\r\n`);
      assert.equal(await service.roundTrip('PUB _INBOX.r2 1\r\nx\r\n'), `-ERR 'Permissions Violation for Publish to "_INBOX.r2"'\r\n`);
    });

    it('permissions - a denied subject inside an allowed wildcard subscription is not delivered', async () => {
      const reader = await raw({ user: 'reader', pass: PASSWORDS.reader });
      await reader.roundTrip('SUB data.> 1\r\n');
      const admin = await raw({ user: 'admin', pass: PASSWORDS.admin });
      await admin.roundTrip('PUB data.private.x 6\r\nsecret\r\nPUB data.public.x 4\r\nopen\r\n');
      assert.equal(await reader.readUntil('open\r\n'), 'MSG data.public.x 1 4\r\nopen\r\n');
    });

    it('permissions - a violation keeps the connection open', async () => {
      const c = await raw({ user: 'reader', pass: PASSWORDS.reader });
      await c.roundTrip('PUB x 0\r\n\r\n');
      assert.equal(await c.roundTrip('SUB data.a 1\r\n'), '');
      assert.equal(c.closed, false);
    });
  });

  describe(`auth without no_auth_user (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    before(async () => {
      const config = permissionConfig();
      delete config.no_auth_user;
      server = await target.start(config);
    });
    after(() => server.stop());

    it('auth - INFO announces auth_required', async () => {
      const c = await RawClient.connect(server.port, { readInfo: false });
      try {
        const info = JSON.parse((await c.readUntil('\r\n')).slice(5));
        assert.equal(info.auth_required, true);
      } finally {
        c.close();
      }
    });

    it('auth - missing credentials get Authorization Violation and are closed', async () => {
      const c = await RawClient.connect(server.port);
      c.send(connectLine({}));
      try {
        assert.equal(await c.waitClosed(), "-ERR 'Authorization Violation'\r\n");
      } finally {
        c.close();
      }
    });
  });

  describe(`auth with a token (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    before(async () => {
      server = await target.start({ authorization: { token: 's3cret' } });
    });
    after(() => server.stop());

    it('auth - the right token is accepted and a wrong one closed', async () => {
      const good = await RawClient.connect(server.port);
      const bad = await RawClient.connect(server.port);
      try {
        assert.equal(await good.roundTrip(connectLine({ auth_token: 's3cret' })), '');
        bad.send(connectLine({ auth_token: 's3creT' }));
        assert.equal(await bad.waitClosed(), "-ERR 'Authorization Violation'\r\n");
      } finally {
        good.close();
        bad.close();
      }
    });
  });
}
