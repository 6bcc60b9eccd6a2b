// HTTP gateway: subscriptions streamed as SSE and NDJSON over real sockets, fed
// by a real NATS client; curl -N; queue groups; max; heartbeats; the stream ends
// when the client goes away; a reader that stops reading is cut off and counted.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { stopChild } from '../helpers/servers.ts';
import { startHttpFixture, StreamReader, waitFor, type HttpFixture } from './http-fixture.ts';

describe('http subscribe', () => {
  let f: HttpFixture;
  let nc: NatsConnection;
  before(async () => {
    f = await startHttpFixture({ maxPendingBytes: 64 * 1024, maxStreams: 3 });
    nc = await connect({ servers: f.natsUrl });
  });
  after(async () => {
    await nc.close();
    await f.stop();
  });

  it('http subscribe - NATS publish reaches an SSE subscriber on a wildcard, headers included', async () => {
    const res = await fetch(`${f.base}/v1/subjects/${encodeURIComponent('sse.>')}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = new StreamReader(res);
    const h = natsHeaders();
    h.append('Unit', 'C');
    h.append('Unit', 'K');
    nc.publish('sse.room.1', 'hello', { headers: h });
    nc.publish('other', 'not for us');
    nc.publish('sse.room.2', 'again');
    await nc.flush();
    const first = await reader.nextEvent();
    assert.equal(first?.event, 'msg');
    assert.deepEqual(JSON.parse(first?.data ?? ''), { subject: 'sse.room.1', headers: { Unit: ['C', 'K'] }, data: 'hello', size: 5 });
    const second = await reader.nextEvent();
    assert.equal(JSON.parse(second?.data ?? '').subject, 'sse.room.2');
    assert.deepEqual(reader.comments, ['subscribed']);
    await reader.cancel();
  });

  it('http subscribe - NDJSON on Accept: application/x-ndjson, binary payloads as data_base64', async () => {
    const res = await fetch(`${f.base}/v1/subjects/nd.*`, { headers: { accept: 'application/x-ndjson' } });
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const reader = new StreamReader(res);
    nc.publish('nd.text', 'plain');
    nc.publish('nd.bin', new Uint8Array([0xff, 0x00, 0xfe]));
    await nc.flush();
    assert.deepEqual(JSON.parse((await reader.nextLine()) ?? ''), { subject: 'nd.text', data: 'plain', size: 5 });
    assert.deepEqual(JSON.parse((await reader.nextLine()) ?? ''), { subject: 'nd.bin', data_base64: Buffer.from([0xff, 0, 0xfe]).toString('base64'), size: 3 });
    await reader.cancel();
  });

  it('http subscribe - curl -N streams events as they are published', { peers: ['curl'] }, async () => {
    const child = spawn('curl', ['-N', '-sS', `${f.base}/v1/subjects/curl.live`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => out.includes(': subscribed'), 'curl sees the stream open');
      nc.publish('curl.live', 'one');
      nc.publish('curl.live', 'two');
      await nc.flush();
      await waitFor(() => out.includes('"data":"two"'), 'curl prints both events');
      assert.match(out, /event: msg\ndata: \{"subject":"curl.live","data":"one","size":3\}\n\n/);
      assert.equal(f.gateway.stats.activeStreams, 1);
    } finally {
      await stopChild(child);
    }
    await waitFor(() => f.gateway.stats.activeStreams === 0, 'stream closed after curl exits');
  });

  it('http subscribe - a queue group shares messages between HTTP subscribers, each once', async () => {
    const a = new StreamReader(await fetch(`${f.base}/v1/subjects/jobs?queue=workers`));
    const b = new StreamReader(await fetch(`${f.base}/v1/subjects/jobs?queue=workers`));
    for (let i = 0; i < 40; i++) nc.publish('jobs', String(i));
    await nc.flush();
    const seen: number[] = [];
    const drain = async (reader: StreamReader): Promise<void> => {
      while (seen.length < 40) {
        const event = await reader.nextEvent(1_000);
        if (event === null) return;
        seen.push(Number(JSON.parse(event.data).data));
      }
    };
    await Promise.all([drain(a), drain(b)]);
    assert.deepEqual(seen.sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i));
    await a.cancel();
    await b.cancel();
  });

  it('http subscribe - max ends the stream with an end event after that many messages', async () => {
    const reader = new StreamReader(await fetch(`${f.base}/v1/subjects/limited?max=2`));
    for (const x of ['1', '2', '3']) nc.publish('limited', x);
    await nc.flush();
    assert.equal(JSON.parse((await reader.nextEvent())?.data ?? '').data, '1');
    assert.equal(JSON.parse((await reader.nextEvent())?.data ?? '').data, '2');
    const end = await reader.nextEvent();
    assert.equal(end?.event, 'end');
    assert.equal(await reader.nextEvent(1_000), null);
    assert.ok(reader.done, 'response ended');
  });

  it('http subscribe - heartbeats are comment lines at the requested interval', async () => {
    const reader = new StreamReader(await fetch(`${f.base}/v1/subjects/quiet?heartbeat=50`));
    assert.equal(await reader.nextEvent(400), null);
    assert.ok(reader.comments.filter((c) => c === 'heartbeat').length >= 3, `heartbeats: ${reader.comments.join(',')}`);
    await reader.cancel();
  });

  it('http subscribe - when the client goes away the subscription ends at the core', async () => {
    const controller = new AbortController();
    const res = await fetch(`${f.base}/v1/subjects/gone.away`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.equal(f.gateway.stats.activeStreams, 1);
    controller.abort();
    await waitFor(() => f.gateway.stats.activeStreams === 0, 'stream closed');
    // nobody listens any more: a request finds no responders
    const probe = await fetch(`${f.base}/v1/subjects/gone.away?request=1&timeout=500`, { method: 'POST', body: 'x' });
    assert.equal(probe.status, 503);
  });

  it('http subscribe - past maxStreams another stream is refused with 503 too_many_streams', async () => {
    const open = [];
    for (let i = 0; i < 3; i++) open.push(new StreamReader(await fetch(`${f.base}/v1/subjects/limit.${i}`)));
    const refused = await fetch(`${f.base}/v1/subjects/limit.more`);
    assert.equal(refused.status, 503);
    assert.equal((await refused.json()).code, 'too_many_streams');
    for (const reader of open) await reader.cancel();
    await waitFor(() => f.gateway.stats.activeStreams === 0, 'streams closed');
    const again = new StreamReader(await fetch(`${f.base}/v1/subjects/limit.more`));
    await again.cancel();
  });

  it('http subscribe - a reader that stops reading is cut off as a slow consumer and counted', async () => {
    const before = f.gateway.stats.slowConsumers;
    const port = new URL(f.base).port;
    const socket = tcpConnect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /v1/subjects/firehose HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    let head = '';
    await new Promise<void>((resolve) => {
      socket.on('data', function onData(chunk: Buffer) {
        head += chunk.toString('latin1');
        if (head.includes(': subscribed')) {
          socket.off('data', onData);
          socket.pause(); // from now on, never read
          resolve();
        }
      });
    });
    const payload = new Uint8Array(16 * 1024).fill(0x61);
    let sent = 0;
    // bounded: at most 64 MiB in total, far above loopback socket buffers + the 64 KiB limit
    while (f.gateway.stats.slowConsumers === before && sent < 4096) {
      for (let i = 0; i < 32; i++, sent++) await f.broker.publish('firehose', payload);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(f.gateway.stats.slowConsumers, before + 1, `cut after ${sent} messages`);
    await waitFor(() => f.gateway.stats.activeStreams === 0, 'stream closed');
    // the subscription is gone too
    const probe = await fetch(`${f.base}/v1/subjects/firehose?request=1&timeout=500`, { method: 'POST', body: 'x' });
    assert.equal(probe.status, 503);
    socket.destroy();
  });
});
