// HTTP gateway: POST /v1/messages publishes an NDJSON batch in order, with a
// result per line; checked from real NATS and JetStream clients, over fetch and
// curl, embedded and on nats-server -js through NatsBroker.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { MAX_BATCH_MESSAGES } from '../../gateways/http/routes/batch-publish.ts';
import { curl, httpJetStreamTargets, waitFor, type HttpFixture } from './http-fixture.ts';

const NDJSON = { 'content-type': 'application/x-ndjson' };

async function postBatch(base: string, lines: unknown[]): Promise<{ status: number; body: { published: number; failed: number; results: Array<Record<string, unknown>> } }> {
  const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: NDJSON, body: lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n' });
  return { status: res.status, body: await res.json() };
}

for (const target of httpJetStreamTargets()) {
  describe(`http batch publish (${target.name})`, { peers: target.peers }, () => {
    let f: HttpFixture;
    let nc: NatsConnection;
    before(async () => {
      f = await target.start({ maxPayload: 1024 });
      nc = await connect({ servers: f.natsUrl });
    });
    after(async () => {
      await nc.close();
      await f.stop();
    });

    it(`http batch (${target.name}) - core messages arrive in line order with data, data_base64, headers and reply`, async () => {
      const got: Msg[] = [];
      nc.subscribe('batch.core.>', { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      const lines = Array.from({ length: 200 }, (_, i) => ({ subject: `batch.core.${i % 3}`, data: `m${i}` }));
      lines.push({ subject: 'batch.core.bin', data_base64: Buffer.from([0, 255, 10]).toString('base64') } as never);
      lines.push({ subject: 'batch.core.h', data: 'with headers', headers: { 'Trace-Id': 'abc', Multi: ['1', '2'] }, reply: 'batch.reply' } as never);
      const { status, body } = await postBatch(f.base, lines);
      assert.equal(status, 200);
      assert.equal(body.published, 202);
      assert.equal(body.failed, 0);
      assert.deepEqual(body.results[0], { subject: 'batch.core.0', size: 2 });
      await waitFor(() => got.length === 202, 'all 202 messages at the NATS subscriber');
      assert.deepEqual(got.slice(0, 200).map((m) => m.string()), lines.slice(0, 200).map((l) => l.data));
      assert.deepEqual([...got[200].data], [0, 255, 10]);
      assert.equal(got[201].headers?.get('Trace-Id'), 'abc');
      assert.deepEqual(got[201].headers?.values('Multi'), ['1', '2']);
      assert.equal(got[201].reply, 'batch.reply');
    });

    it(`http batch (${target.name}) - stream subjects answer with PubAcks in order; Nats-Msg-Id dedupes inside the batch`, async () => {
      // Created over HTTP, so the gateway knows at once that these subjects are stored
      // (a stream created elsewhere is seen once its advisory arrives).
      const created = await fetch(`${f.base}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'BATCH', subjects: ['batch.stored.>'] }) });
      assert.equal(created.status, 201);
      const lines = [
        { subject: 'batch.stored.a', data: 'one' },
        { subject: 'batch.stored.b', data: 'two', headers: { 'Nats-Msg-Id': 'id-1' } },
        { subject: 'batch.stored.b', data: 'two again', headers: { 'Nats-Msg-Id': 'id-1' } },
        { subject: 'batch.stored.c', data: 'three' },
      ];
      const { status, body } = await postBatch(f.base, lines);
      assert.equal(status, 200);
      assert.deepEqual(body.results.map((r) => [r.stream, r.seq, r.duplicate ?? false]), [['BATCH', 1, false], ['BATCH', 2, false], ['BATCH', 2, true], ['BATCH', 3, false]]);
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('BATCH');
      assert.equal(info.state.messages, 3);
      assert.equal((await jsm.streams.getMessage('BATCH', { seq: 3 }))?.string(), 'three');
    });

    it(`http batch (${target.name}) - a refused stream publish is reported in its slot while later lines still look up streams`, async () => {
      const created = await fetch(`${f.base}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'BATCH_REFUSED', subjects: ['batch.refused.>'] }) });
      assert.equal(created.status, 201);
      // Line 1's PubAck error arrives while line 2 (Nats-Msg-Id) reloads the stream
      // list: the rejection must be held for the results, not left unhandled.
      const { status, body } = await postBatch(f.base, [
        { subject: 'batch.refused.a', data: 'x', headers: { 'Nats-Expected-Last-Sequence': '999' } },
        ...Array.from({ length: 5 }, (_, i) => ({ subject: 'batch.refused.b', data: `y${i}`, headers: { 'Nats-Msg-Id': `refused-${i}` } })),
      ]);
      assert.equal(status, 200);
      assert.equal(body.failed, 1);
      assert.ok(body.results[0].error !== undefined, JSON.stringify(body.results[0]));
      assert.deepEqual(body.results.slice(1).map((r) => r.seq), [1, 2, 3, 4, 5]);
    });

    it(`http batch (${target.name}) - lines with Nats-Msg-Id read the stream list once per request, not once per line`, async () => {
      const created = await fetch(`${f.base}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'BATCH_IDS', subjects: ['batch.ids.>'] }) });
      assert.equal(created.status, 201);
      let listings = 0;
      const sub = nc.subscribe('$JS.API.STREAM.LIST', { callback: () => void listings++ });
      await nc.flush();
      try {
        const { status, body } = await postBatch(f.base, Array.from({ length: 200 }, (_, i) => ({ subject: 'batch.ids.x', data: `${i}`, headers: { 'Nats-Msg-Id': `ids-${i}` } })));
        assert.equal(status, 200);
        assert.deepEqual(body.results.map((r) => r.seq), Array.from({ length: 200 }, (_, i) => i + 1));
        await nc.flush();
        // one read for the request (the create above dropped the list), none per line
        assert.ok(listings >= 1 && listings <= 2, `${listings} STREAM.LIST requests for one batch`);
      } finally {
        sub.unsubscribe();
      }
    });

    it(`http batch (${target.name}) - a bad line fails alone with a problem in its slot; the rest are published`, async () => {
      const got: Msg[] = [];
      nc.subscribe('batch.mixed.>', { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      const { status, body } = await postBatch(f.base, [
        { subject: 'batch.mixed.ok1', data: 'a' },
        '{not json',
        { subject: 'batch.mixed.*', data: 'wildcard' },
        { subject: 'batch.mixed.big', data: 'x'.repeat(2_000) },
        { subject: 'batch.mixed.both', data: 'a', data_base64: 'YQ==' },
        { subject: 'batch.mixed.b64', data_base64: '***' },
        { subject: 'batch.mixed.hdr', data: 'a', headers: { 'bad name': 'v' } },
        { data: 'no subject' },
        { subject: 'batch.mixed.ok2', data: 'b' },
      ]);
      assert.equal(status, 200);
      assert.equal(body.published, 2);
      assert.equal(body.failed, 7);
      const codes = body.results.map((r) => (r.error as { code?: string } | undefined)?.code ?? 'ok');
      assert.deepEqual(codes, ['ok', 'invalid_json', 'invalid_subject', 'payload_too_large', 'invalid_request', 'invalid_request', 'invalid_header', 'invalid_request', 'ok']);
      assert.equal((body.results[3].error as { status: number }).status, 413);
      await waitFor(() => got.length === 2, 'the two good messages');
      assert.deepEqual(got.map((m) => m.subject), ['batch.mixed.ok1', 'batch.mixed.ok2']);
    });

    it(`http batch (${target.name}) - wrong content type is 415, too many lines is 413, both as problem+json`, async (t) => {
      const wrongType = await fetch(`${f.base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"subject":"a"}' });
      assert.equal(wrongType.status, 415);
      assert.equal((await wrongType.json()).code, 'unsupported_media_type');
      const many = Array.from({ length: MAX_BATCH_MESSAGES + 1 }, () => '{"subject":"batch.many"}').join('\n');
      const tooMany = await fetch(`${f.base}/v1/messages`, { method: 'POST', headers: NDJSON, body: many });
      assert.equal(tooMany.status, 413);
      assert.match(tooMany.headers.get('content-type') ?? '', /problem\+json/);
      assert.equal((await tooMany.json()).max_messages, MAX_BATCH_MESSAGES);
      // A body at the byte limit made of the shortest lines is refused without splitting all of it.
      const t0 = performance.now();
      const tiny = await fetch(`${f.base}/v1/messages`, { method: 'POST', headers: NDJSON, body: Buffer.alloc(16 * 1024 * 1024 - 2, '1\n') });
      assert.equal(tiny.status, 413);
      assert.equal((await tiny.json()).max_messages, MAX_BATCH_MESSAGES);
      t.diagnostic(`8M one-byte lines refused in ${(performance.now() - t0).toFixed(0)} ms`);
    });

    it(`http batch (${target.name}) - curl posts an NDJSON file`, { peers: ['curl'] }, async () => {
      const got: Msg[] = [];
      nc.subscribe('batch.curl', { callback: (_e, m) => void got.push(m) });
      await nc.flush();
      const run = await curl(['-sS', '-H', 'content-type: application/x-ndjson', '--data-binary', '@-', `${f.base}/v1/messages`], '{"subject":"batch.curl","data":"1"}\r\n{"subject":"batch.curl","data":"2"}\r\n');
      assert.equal(run.code, 0, run.stderr);
      assert.equal(JSON.parse(run.stdout.toString()).published, 2);
      await waitFor(() => got.length === 2, 'two messages from curl');
      assert.deepEqual(got.map((m) => m.string()), ['1', '2']);
    });
  });
}
