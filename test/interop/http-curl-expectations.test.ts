// HTTP gateway: what a curl user expects (issue 26), each over a real socket with
// curl. HEAD, 405 with Allow, 415 naming the type, empty DELETE bodies, errors
// naming the missing bucket/key/stream, bucket listings, one timestamp form,
// the watch's end-of-snapshot marker, NDJSON without an empty first line, JSON
// PubAcks, Idempotency-Key, subject errors that say what is wrong, and SSE
// streams that end with `event: end` when the gateway shuts down.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { curlAnswer, httpJetStreamTargets, type HttpFixture } from './http-fixture.ts';

const NANOS_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const JSON_TYPE = ['-H', 'Content-Type: application/json'];

const embedded = httpJetStreamTargets()[0];

describe('http api for curl users', { peers: ['curl'] }, () => {
  let f: HttpFixture;
  before(async () => {
    f = await embedded.start();
    assert.equal((await curlAnswer([...JSON_TYPE, '-d', '{"bucket":"cfg","history":3,"storage":"memory"}', `${f.base}/v1/buckets`])).status, 201);
    assert.equal((await curlAnswer([...JSON_TYPE, '-d', '{"bucket":"files","storage":"memory"}', `${f.base}/v1/objects`])).status, 201);
    assert.equal((await curlAnswer([...JSON_TYPE, '-d', '{"name":"ORDERS","subjects":["orders.>"],"storage":"memory"}', `${f.base}/v1/streams`])).status, 201);
  });
  after(async () => f?.stop());

  it('http api - HEAD answers every GET route with its headers and no body', async () => {
    const health = await curlAnswer(['-I', `${f.base}/healthz`]);
    assert.equal(health.status, 200);
    assert.match(health.headers.get('content-type') ?? '', /^application\/json/);
    await curlAnswer(['-X', 'PUT', '--data-binary', 'hello', `${f.base}/v1/kv/cfg/greeting`]);
    const key = await curlAnswer(['-I', `${f.base}/v1/kv/cfg/greeting`]);
    assert.equal(key.status, 200);
    assert.equal(key.headers.get('etag'), '"1"');
    assert.equal(key.headers.get('content-length'), '5');
    assert.equal(key.body, '');
    assert.equal((await curlAnswer(['-X', 'PUT', '--data-binary', 'x'.repeat(3000), `${f.base}/v1/objects/files/big.txt`])).status, 201);
    const object = await curlAnswer(['-I', `${f.base}/v1/objects/files/big.txt`]);
    assert.equal(object.status, 200);
    assert.equal(object.headers.get('content-length'), '3000');
    assert.match(object.headers.get('etag') ?? '', /^"SHA-256=/);
    // An event stream answers HEAD with its headers and ends: curl -I returns at once.
    const started = Date.now();
    const sse = await curlAnswer(['-I', `${f.base}/v1/subjects/head.test`]);
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(Date.now() - started < 3_000);
    assert.equal(f.gateway.stats.activeStreams, 0);
  });

  it('http api - a wrong method is 405 with Allow; an unknown path is still 404', async () => {
    const wrong = await curlAnswer(['-X', 'PATCH', `${f.base}/v1/kv/cfg/greeting`]);
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'DELETE, GET, HEAD, PUT');
    const problem = JSON.parse(wrong.body);
    assert.equal(problem.code, 'method_not_allowed');
    assert.deepEqual(problem.allow, ['DELETE', 'GET', 'HEAD', 'PUT']);
    const listOnly = await curlAnswer(['-X', 'DELETE', `${f.base}/v1/streams`]);
    assert.deepEqual([listOnly.status, listOnly.headers.get('allow')], [405, 'GET, HEAD, POST']);
    const unknown = await curlAnswer([`${f.base}/v1/nothing/here`]);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get('allow'), undefined);
  });

  it("http api - curl -d's form type on a JSON route is 415 naming application/json and the fix", async () => {
    const res = await curlAnswer(['-d', '{"bucket":"x"}', `${f.base}/v1/buckets`]);
    assert.equal(res.status, 415);
    const problem = JSON.parse(res.body);
    assert.equal(problem.code, 'unsupported_media_type');
    assert.deepEqual(problem.accepted, ['application/json']);
    assert.equal(problem.content_type, 'application/x-www-form-urlencoded');
    assert.match(problem.detail, /takes application\/json.*Content-Type: application\/json/);
    const batch = await curlAnswer([...JSON_TYPE, '-d', '{}', `${f.base}/v1/messages`]);
    assert.equal(batch.status, 415);
    assert.deepEqual(JSON.parse(batch.body).accepted, ['application/x-ndjson']);
  });

  it('http api - DELETE with Content-Type: application/json and no body is accepted', async () => {
    await curlAnswer(['-X', 'PUT', '--data-binary', 'tmp', `${f.base}/v1/kv/cfg/tmp`]);
    assert.equal((await curlAnswer(['-X', 'DELETE', ...JSON_TYPE, `${f.base}/v1/kv/cfg/tmp`])).status, 204);
    assert.equal((await curlAnswer([...JSON_TYPE, '-d', '{"bucket":"gone","storage":"memory"}', `${f.base}/v1/buckets`])).status, 201);
    assert.equal((await curlAnswer(['-X', 'DELETE', ...JSON_TYPE, `${f.base}/v1/buckets/gone`])).status, 204);
    // A body a route needs is still required: 400 from its schema, not a parse error.
    const empty = await curlAnswer(['-X', 'POST', ...JSON_TYPE, `${f.base}/v1/buckets`]);
    assert.deepEqual([empty.status, JSON.parse(empty.body).code], [400, 'invalid_request']);
  });

  it('http api - errors name what is missing, with its stable code and the JetStream err_code', async () => {
    const cases: Array<[string[], string, number | undefined, Record<string, unknown>]> = [
      [['-X', 'PUT', '--data-binary', 'v', `${f.base}/v1/kv/nobucket/k`], 'bucket_not_found', 10059, { bucket: 'nobucket' }],
      [['-X', 'DELETE', `${f.base}/v1/kv/nobucket/k`], 'bucket_not_found', 10059, { bucket: 'nobucket' }],
      [[`${f.base}/v1/kv/nobucket/k`], 'bucket_not_found', 10059, { bucket: 'nobucket' }],
      [[`${f.base}/v1/buckets/nobucket`], 'bucket_not_found', 10059, { bucket: 'nobucket' }],
      [[`${f.base}/v1/objects/nobucket`], 'bucket_not_found', 10059, { bucket: 'nobucket' }],
      [[`${f.base}/v1/objects/files/none.txt`], 'object_not_found', undefined, { bucket: 'files', name: 'none.txt' }],
      [[`${f.base}/v1/kv/cfg/nokey`], 'key_not_found', undefined, { bucket: 'cfg', key: 'nokey' }],
      [[`${f.base}/v1/streams/NOSTREAM`], 'stream_not_found', 10059, { stream: 'NOSTREAM' }],
      [[`${f.base}/v1/streams/ORDERS/consumers/nobody`], 'consumer_not_found', 10014, { stream: 'ORDERS', consumer: 'nobody' }],
      [[`${f.base}/v1/streams/ORDERS/messages/99`], 'message_not_found', undefined, { stream: 'ORDERS' }],
    ];
    for (const [args, code, errCode, members] of cases) {
      const res = await curlAnswer(args);
      const problem = JSON.parse(res.body);
      assert.equal(res.status, 404, `${args.join(' ')}: ${res.body}`);
      assert.equal(problem.code, code, args.join(' '));
      assert.equal(problem.err_code, errCode, args.join(' '));
      for (const [name, value] of Object.entries(members)) assert.equal(problem[name], value, `${args.join(' ')}: ${name}`);
      assert.doesNotMatch(problem.detail, /JetStream is not enabled/);
    }
    const deleted = await curlAnswer([`${f.base}/v1/kv/cfg/tmp`]);
    assert.match(JSON.parse(deleted.body).detail, /deleted at revision/);
  });

  it('http api - GET /v1/buckets and /v1/objects list the buckets', async () => {
    const kv = JSON.parse((await curlAnswer([`${f.base}/v1/buckets`])).body);
    assert.deepEqual(kv.buckets.map((b: { bucket: string }) => b.bucket), ['cfg']);
    assert.equal(kv.buckets[0].history, 3);
    const objects = JSON.parse((await curlAnswer([`${f.base}/v1/objects`])).body);
    assert.deepEqual(objects.buckets.map((b: { bucket: string }) => b.bucket), ['files']);
    assert.ok(objects.buckets[0].bytes >= 3000);
  });

  it('http api - one timestamp form (RFC 3339, nine fraction digits) in watch snapshots, live changes, history and stream reads; the snapshot ends with a marker', async () => {
    await curlAnswer(['-X', 'PUT', '--data-binary', 'old', `${f.base}/v1/kv/cfg/t.a`]);
    const watch = spawn('curl', ['-sSN', `${f.base}/v1/buckets/cfg/watch?key=t.*&initial=1`]);
    let out = '';
    watch.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const waitFor = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 5_000;
      while (!pattern.test(out)) {
        assert.ok(Date.now() < deadline, `waited for ${pattern} in ${out}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      await waitFor(/event: snapshot_end/);
      await curlAnswer(['-X', 'PUT', '--data-binary', 'new', `${f.base}/v1/kv/cfg/t.a`]);
      await waitFor(/"data":"new"/);
    } finally {
      watch.kill();
    }
    const events = out.split('\n\n').filter((frame) => frame.includes('event: '));
    assert.deepEqual(events.map((frame) => /event: (\S+)/.exec(frame)?.[1]), ['msg', 'snapshot_end', 'msg']);
    const [snapshot, marker, live] = events.map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)));
    assert.match(snapshot.created, NANOS_TIME);
    assert.match(live.created, NANOS_TIME);
    assert.equal(marker.revision, snapshot.revision);
    assert.ok(live.revision > snapshot.revision);
    const history = JSON.parse((await curlAnswer([`${f.base}/v1/kv/cfg/t.a/history`])).body);
    for (const entry of history.entries) assert.match(entry.created, NANOS_TIME);
    assert.match((await curlAnswer(['-I', `${f.base}/v1/kv/cfg/t.a`])).headers.get('x-kv-created') ?? '', NANOS_TIME);
    await curlAnswer(['--data-binary', 'o1', `${f.base}/v1/subjects/orders.one`]);
    const range = JSON.parse((await curlAnswer([`${f.base}/v1/streams/ORDERS/range`])).body);
    assert.match(range.messages[0].time, NANOS_TIME);
    assert.equal(typeof range.messages[0].seq, 'number');
  });

  it('http api - NDJSON streams start with data, not an empty line', async () => {
    const reader = spawn('curl', ['-sSN', '-H', 'Accept: application/x-ndjson', `${f.base}/v1/subjects/nd.first`]);
    let out = '';
    reader.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      const deadline = Date.now() + 5_000;
      while (f.gateway.stats.activeStreams === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await curlAnswer(['--data-binary', 'first!', `${f.base}/v1/subjects/nd.first`]);
      while (!out.includes('\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      reader.kill();
    }
    assert.ok(!out.startsWith('\n'), JSON.stringify(out));
    assert.equal(JSON.parse(out.split('\n')[0]).data, 'first!');
  });

  it('http api - a request to a stream subject answers its PubAck as application/json', async () => {
    const res = await curlAnswer(['--data-binary', 'o2', `${f.base}/v1/subjects/orders.two?request=1`]);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(JSON.parse(res.body).stream, 'ORDERS');
    const api = await curlAnswer(['--data-binary', '', `${f.base}/v1/subjects/$JS.API.INFO?request=1`]);
    assert.match(api.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('http api - Idempotency-Key is Nats-Msg-Id: a retried publish is stored once', async () => {
    const url = `${f.base}/v1/subjects/orders.pay`;
    const first = JSON.parse((await curlAnswer(['-H', 'Idempotency-Key: pay-42', '--data-binary', 'charge', url])).body);
    const retry = JSON.parse((await curlAnswer(['-H', 'Idempotency-Key: pay-42', '--data-binary', 'charge', url])).body);
    assert.equal(first.duplicate, undefined);
    assert.deepEqual([retry.seq, retry.duplicate], [first.seq, true]);
    const stored = JSON.parse((await curlAnswer([`${f.base}/v1/streams/ORDERS/messages/${first.seq}`])).body);
    assert.deepEqual(stored.headers['Nats-Msg-Id'], ['pay-42']);
    const clash = await curlAnswer(['-H', 'Idempotency-Key: a', '-H', 'Nats-Msg-Id: b', '--data-binary', 'x', url]);
    assert.deepEqual([clash.status, JSON.parse(clash.body).code], [400, 'invalid_header']);
  });

  it('http api - an invalid subject is reported with the rule it breaks', async () => {
    const space = await curlAnswer(['--data-binary', 'x', `${f.base}/v1/subjects/has%20space`]);
    assert.equal(space.status, 400);
    assert.match(JSON.parse(space.body).detail, /whitespace/);
    const wildcard = await curlAnswer(['--data-binary', 'x', `${f.base}/v1/subjects/a.*`]);
    assert.match(JSON.parse(wildcard.body).detail, /wildcards .* are for subscribing/);
    const empty = await curlAnswer(['--data-binary', 'x', `${f.base}/v1/subjects/a..b`]);
    assert.match(JSON.parse(empty.body).detail, /empty tokens/);
    const subscribe = await curlAnswer([`${f.base}/v1/subjects/a.%3E.b`]);
    assert.match(JSON.parse(subscribe.body).detail, /only be the last token/);
  });
});

describe('http api shutdown', { peers: ['curl'] }, () => {
  it('http api - shutdown ends open SSE streams with event: end and reason shutdown; curl exits 0', async () => {
    const f = await embedded.start();
    const readers = [spawn('curl', ['-sSN', `${f.base}/v1/subjects/bye.>`]), spawn('curl', ['-sSN', '-H', 'Accept: application/x-ndjson', `${f.base}/v1/subjects/bye.>`])];
    const outputs = readers.map((reader) => {
      let out = '';
      reader.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return { text: () => out, exit: new Promise<number | null>((resolve) => reader.once('close', resolve)) };
    });
    try {
      const deadline = Date.now() + 5_000;
      while (f.gateway.stats.activeStreams < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(f.gateway.stats.activeStreams, 2);
    } finally {
      await f.stop();
    }
    assert.deepEqual(await Promise.all(outputs.map((o) => o.exit)), [0, 0]);
    assert.match(outputs[0].text(), /event: end\ndata: \{"reason":"server shutting down"\}\n\n$/);
    assert.match(outputs[1].text(), /\{"event":"end","reason":"server shutting down"\}\n$/);
  });

  it('http api - endStreams(reason) ends the streams open now (lame duck) and the gateway keeps serving', async () => {
    const f = await embedded.start();
    try {
      const reader = spawn('curl', ['-sSN', `${f.base}/v1/subjects/ldm.>`]);
      let out = '';
      reader.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exit = new Promise<number | null>((resolve) => reader.once('close', resolve));
      const deadline = Date.now() + 5_000;
      while (f.gateway.stats.activeStreams < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await f.gateway.endStreams('lame duck mode'), 1);
      assert.equal(await exit, 0);
      assert.match(out, /event: end\ndata: \{"reason":"lame duck mode"\}/);
      assert.equal((await curlAnswer([`${f.base}/healthz`])).status, 200);
    } finally {
      await f.stop();
    }
  });
});
