// Logs an operator can use (issue 30): a Switchboard process started with
// -DV --log_format text writes, as lines a person reads, one line per MQTT,
// MQTT-over-WebSocket, NATS-over-WebSocket and HTTP event-stream connect and
// disconnect (with reason, client id, user and address), and traces MQTT
// packets in and out as NATS traces its operations. Real clients: mqtt.js,
// the official NATS WebSocket client, fetch for SSE.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from '@nats-io/transport-node';
import type { MqttClient } from 'mqtt';
import { connectMqtt, until } from '../helpers/mqtt.ts';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';
import { connectWs } from '../helpers/websocket-clients.ts';

describe('operator logs', () => {
  let server: SwitchboardProcess;
  let log = '';
  const lines = (): string[] => log.split('\n');
  const lineWith = (...parts: string[]): string | undefined => lines().find((line) => parts.every((part) => line.includes(part)));
  async function waitForLine(...parts: string[]): Promise<string> {
    await until(() => lineWith(...parts) !== undefined, `a log line with ${parts.join(', ')}:\n${log.slice(-3000)}`, 5000);
    return lineWith(...parts) as string;
  }

  before(async () => {
    server = await startSwitchboardProcess(['-DV', '--log_format', 'text', '--user', 'ops', '--pass', 'secret']);
    server.child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  });

  after(async () => {
    await server?.stop();
  });

  it('operator logs - -D logs MQTT connects and disconnects with reason, client id, user and address; -V traces packets', async () => {
    const client: MqttClient = await connectMqtt(`mqtt://127.0.0.1:${server.gateways.mqtt}`, { clientId: 'meter-7', username: 'ops', password: 'secret', keepalive: 30 });
    const connected = await waitForLine('[DBG] MQTT client connected', 'client_id=meter-7');
    assert.match(connected, / user=ops /);
    assert.match(connected, / ip=127\.0\.0\.1 /);
    assert.match(connected, / keep_alive=30/);
    await client.publishAsync('meters/7', 'kWh', { qos: 1 });
    await waitForLine('[TRC]', '<<- [PUBLISH meters/7 qos=1 id=', '3 bytes]');
    await waitForLine('[TRC]', '->> [PUBACK id=');
    await client.endAsync();
    const closed = await waitForLine('[DBG] MQTT client closed', 'client_id=meter-7');
    assert.match(closed, /reason="client sent DISCONNECT"/);

    // A refused login is logged with its reason too.
    await assert.rejects(connectMqtt(`mqtt://127.0.0.1:${server.gateways.mqtt}`, { clientId: 'intruder', username: 'ops', password: 'wrong' }));
    const refusedAt = await waitForLine('[TRC] <<- [CONNECT client_id="intruder"');
    const cid = / cid=(\d+) /.exec(refusedAt)?.[1];
    await waitForLine('[DBG] MQTT client closed', `cid=${cid} `, 'reason="connect refused: authentication failed"');
  });

  it('operator logs - MQTT and NATS over WebSocket and HTTP event streams log their connects and disconnects', async () => {
    const wsMqtt = await connectMqtt(`ws://127.0.0.1:${server.gateways.websocket}/mqtt`, { clientId: 'tab-1', username: 'ops', password: 'secret', protocolVersion: 5 });
    await waitForLine('[DBG] MQTT client connected', 'type=websocket-mqtt', 'client_id=tab-1');
    wsMqtt.stream.destroy(); // gone without DISCONNECT
    const gone = await waitForLine('[DBG] MQTT client closed', 'client_id=tab-1');
    assert.match(gone, /reason="connection (closed by client|error: [^"]+)"/);

    const nc: NatsConnection = await connectWs(`ws://127.0.0.1:${server.gateways.websocket}`, { name: 'browser', user: 'ops', pass: 'secret' });
    await nc.flush();
    await waitForLine('[DBG] client connection created', 'type=websocket-nats');
    await nc.close();
    const natsClosed = await waitForLine('[DBG] client connection closed', 'type=websocket-nats', 'name=browser');
    assert.match(natsClosed, / user=ops/);

    const abort = new AbortController();
    const auth = `Basic ${Buffer.from('ops:secret').toString('base64')}`;
    const response = await fetch(`http://127.0.0.1:${server.gateways.http}/v1/subjects/ops.events`, { signal: abort.signal, headers: { accept: 'text/event-stream', authorization: auth } });
    await response.body?.getReader().read();
    const opened = await waitForLine('[DBG] HTTP event stream opened', 'route=/v1/subjects/:subject');
    assert.match(opened, / user=ops /);
    abort.abort();
    const closed = await waitForLine('[DBG] HTTP event stream closed', 'route=/v1/subjects/:subject');
    assert.match(closed, /reason="client closed the stream"/);
  });

  it('operator logs - --log_format text writes every line nats-server style', () => {
    assert.ok(lines().every((line) => line === '' || /^\[\d+\] \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(TRC|DBG|INF|WRN|ERR|FTL)\] /.test(line)), log.slice(0, 2000));
  });

});
