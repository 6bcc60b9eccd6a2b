// Self-protection limits with short timings, against Switchboard and against
// Debian's nats-server configured the same way.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { TokenAuthorizer } from '../../core/auth/authorizer.ts';
import { RawClient } from '../helpers/raw-client.ts';
import type { Peer } from '../helpers/peers.ts';
import { startNatsServerWithConfig, startSwitchboard, type RunningServer } from '../helpers/servers.ts';

const TOKEN = 's3cret';
const targets: Array<{ name: string; peers?: readonly Peer[]; start: () => Promise<RunningServer> }> = [
  {
    name: 'switchboard',
    start: () => startSwitchboard(
      { pingIntervalMs: 200, maxPingsOut: 2, maxConnections: 3, authTimeoutMs: 500 },
      { authorizer: new TokenAuthorizer(TOKEN) },
    ),
  },
  {
    name: 'nats-server',
    peers: ['nats-server'],
    start: () => startNatsServerWithConfig(`ping_interval: "200ms"\nping_max: 2\nmax_connections: 3\nauthorization { token: "${TOKEN}", timeout: 0.5 }`),
  },
];

for (const target of targets) {
  describe(`limits (${target.name})`, { peers: target.peers }, () => {
    let server: RunningServer;
    before(async () => {
      server = await target.start();
    });
    after(async () => {
      await server.stop();
    });

    it('limits - INFO says auth_required when auth is on', async () => {
      const c = await RawClient.connect(server.port, { readInfo: false });
      const info = JSON.parse((await c.readUntil('\r\n')).slice(5));
      assert.equal(info.auth_required, true);
      c.close();
    });

    it('limits - a client that never sends CONNECT gets Authentication Timeout', async () => {
      const c = await RawClient.connect(server.port);
      const got = await c.waitClosed(3000);
      assert.match(got, /-ERR 'Authentication Timeout'\r\n$/);
    });

    it('limits - a wrong token gets Authorization Violation and is closed', async () => {
      const c = await RawClient.connect(server.port);
      c.send('CONNECT {"auth_token":"wrong","verbose":false}\r\nPING\r\n');
      assert.equal(await c.waitClosed(), "-ERR 'Authorization Violation'\r\n");
    });

    it('limits - a client that ignores PINGs is closed as a Stale Connection', async () => {
      const c = await RawClient.connect(server.port);
      c.send(`CONNECT {"auth_token":"${TOKEN}","verbose":false}\r\nPING\r\n`);
      await c.readUntil('PONG\r\n');
      const started = Date.now();
      const got = await c.waitClosed(30_000);
      assert.equal(got, "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
      // A lower bound, which a busy machine cannot break: the close came from the
      // unanswered 200 ms PINGs, not at once.
      assert.ok(Date.now() - started >= 300, `closed after ${Date.now() - started} ms`);
    });

    it('limits - connections past max_connections are refused with -ERR', async () => {
      const held: RawClient[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await RawClient.connect(server.port);
        c.send(`CONNECT {"auth_token":"${TOKEN}","verbose":false}\r\n`);
        await c.roundTrip();
        held.push(c);
      }
      const extra = await RawClient.connect(server.port, { readInfo: false });
      const got = await extra.waitClosed();
      assert.match(got.toLowerCase(), /-err 'maximum connections exceeded'\r\n$/);
      for (const c of held) c.close();
    });
  });
}
