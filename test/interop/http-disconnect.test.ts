// HTTP gateway: DELETE /v1/connections/{cid} closes a client's connection, any
// protocol (the console's Disconnect; nats-server's KICK), for a user with publish
// permission on $SYS.REQ.SERVER.<id>.KICK. Real clients against a Switchboard
// process: an @nats-io client sees its connection closed (reason Kicked in
// /connz?state=closed), an mqtt.js MQTT 5 client gets DISCONNECT 0x98 and its
// will goes out, an SSE reader gets `event: end`; a user without the permission
// gets a 403 problem document, an unknown cid a 404 one.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { IDisconnectPacket } from 'mqtt';
import { connectMqtt, until } from '../helpers/mqtt.ts';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';
import { basicAuth, writeUsersConfig } from '../helpers/users-config.ts';

const ADMIN = basicAuth('admin');
const VIEWER = basicAuth('viewer');

interface Conn {
  cid: number;
  name?: string;
  mqtt_client?: string;
  type: string;
  reason?: string;
  mqtt?: { will?: { topic: string; qos: number; retain: boolean; delay: number } };
  http?: { route: string };
}

describe('http disconnect', () => {
  let server: SwitchboardProcess;
  let dir: string;
  let base: string;
  let admin: NatsConnection;

  async function connz(query = ''): Promise<Conn[]> {
    const response = await fetch(`${base}/v1/monitor/connz?auth=1&limit=1000${query}`, { headers: ADMIN });
    assert.equal(response.status, 200);
    return ((await response.json()) as { connections: Conn[] }).connections;
  }
  const kick = (cid: number, headers: Record<string, string> = ADMIN): Promise<Response> => fetch(`${base}/v1/connections/${cid}`, { method: 'DELETE', headers });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'http-disconnect-'));
    const file = writeUsersConfig(dir);
    server = await startSwitchboardProcess(['-c', file]);
    base = `http://127.0.0.1:${server.gateways.http}`;
    admin = await connect({ servers: server.url, user: 'admin', pass: 'pw-admin', name: 'admin-watcher' });
  });

  after(async () => {
    await admin?.close();
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('http disconnect - a NATS client is closed with reason Kicked', async () => {
    const victim = await connect({ servers: server.url, user: 'admin', pass: 'pw-admin', name: 'victim', reconnect: false });
    const closed = victim.closed();
    const row = (await connz()).find((c) => c.name === 'victim');
    assert.ok(row !== undefined, 'the client is listed');
    const response = await kick(row.cid);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { cid: row.cid });
    await closed; // resolves when the server ended the connection (reconnect is off)
    assert.equal(victim.isClosed(), true);
    const gone = (await connz('&state=closed')).find((c) => c.cid === row.cid);
    assert.equal(gone?.reason, 'Kicked');
  });

  it('http disconnect - an MQTT 5 client gets DISCONNECT 0x98 and its will is sent', async () => {
    const wills: string[] = [];
    const sub = admin.subscribe('devices.d1.status', { callback: (_e, m) => void wills.push(m.string()) });
    await admin.flush();
    const device = await connectMqtt(`mqtt://127.0.0.1:${server.gateways.mqtt}`, {
      clientId: 'd1',
      protocolVersion: 5,
      username: 'admin',
      password: 'pw-admin',
      keepalive: 30,
      will: { topic: 'devices/d1/status', payload: Buffer.from('offline'), qos: 1, retain: false },
    });
    const disconnects: IDisconnectPacket[] = [];
    device.on('disconnect', (packet) => disconnects.push(packet));
    let closes = 0;
    device.on('close', () => closes++);
    const row = (await connz()).find((c) => c.mqtt_client === 'd1');
    assert.ok(row !== undefined);
    assert.deepEqual(row.mqtt?.will, { topic: 'devices/d1/status', qos: 1, retain: false, delay: 0 }, 'connz shows the will (not its payload)');
    assert.equal((await kick(row.cid)).status, 200);
    await until(() => closes > 0 && disconnects.length > 0, 'the MQTT client to see the server disconnect', 10_000);
    assert.equal(disconnects[0].reasonCode, 0x98);
    await until(() => wills.includes('offline'), 'the will message', 10_000);
    assert.equal((await connz()).some((c) => c.mqtt_client === 'd1'), false);
    sub.unsubscribe();
    device.end(true);
  });

  it('http disconnect - an SSE subscriber gets event: end', async () => {
    const response = await fetch(`${base}/v1/subjects/public.feed`, { headers: { ...ADMIN, accept: 'text/event-stream' } });
    const text = response.text(); // the whole body: complete once the server ends the stream
    let row: Conn | undefined;
    for (let i = 0; i < 100 && row === undefined; i++) {
      row = (await connz()).find((c) => c.type === 'http-stream' && c.http?.route === '/v1/subjects/:subject');
      if (row === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(row !== undefined, 'the stream is listed');
    assert.equal((await kick(row.cid)).status, 200);
    assert.match(await text, /event: end\ndata: \{"reason":"disconnected by an operator"\}/);
  });

  it('http disconnect - without the permission: 403 problem JSON, and the client stays', async () => {
    const bystander = await connect({ servers: server.url, user: 'admin', pass: 'pw-admin', name: 'bystander', reconnect: false });
    try {
      const row = (await connz()).find((c) => c.name === 'bystander');
      assert.ok(row !== undefined);
      const refused = await kick(row.cid, VIEWER);
      assert.equal(refused.status, 403);
      assert.match(refused.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const problem = (await refused.json()) as { code: string; subject: string; principal: string };
      assert.equal(problem.code, 'permission_denied');
      assert.match(problem.subject, /^\$SYS\.REQ\.SERVER\.[A-Z0-9]+\.KICK$/);
      assert.equal(problem.principal, 'viewer');
      await bystander.flush();
      assert.equal(bystander.isClosed(), false);
      assert.equal((await kick(row.cid, {})).status, 401, 'no credentials');
    } finally {
      await bystander.close();
    }
  });

  it('http disconnect - an unknown cid is 404 connection_not_found', async () => {
    const response = await kick(999_999);
    assert.equal(response.status, 404);
    const problem = (await response.json()) as { code: string; cid: number };
    assert.equal(problem.code, 'connection_not_found');
    assert.equal(problem.cid, 999_999);
  });
});
