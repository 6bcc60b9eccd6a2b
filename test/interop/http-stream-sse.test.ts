// HTTP gateway: a stream read as Server-Sent Events. Event ids are stream
// sequences, so a reader cut mid-stream resumes with Last-Event-ID exactly where
// it stopped: no gap, no duplicate. Stored messages come first, then live ones.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { stopChild } from '../helpers/servers.ts';
import { httpJetStreamTargets, StreamReader, waitFor, type HttpFixture } from './http-fixture.ts';

for (const target of httpJetStreamTargets()) {
  describe(`http stream sse (${target.name})`, { peers: target.peers }, () => {
    let f: HttpFixture;
    const publish = async (subject: string, body: string): Promise<number> => {
      const res = await fetch(`${f.base}/v1/subjects/${subject}`, { method: 'POST', body });
      assert.equal(res.status, 200);
      return (await res.json()).seq;
    };
    before(async () => {
      f = await target.start();
      const res = await fetch(`${f.base}/v1/streams`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'EVENTS', subjects: ['ev.>'], storage: 'memory' }),
      });
      assert.equal(res.status, 201);
    });
    after(async () => f.stop());

    it('http stream sse - stored then live messages, each event id the stream sequence', async () => {
      for (let i = 1; i <= 3; i++) await publish('ev.a', `m${i}`);
      const res = await fetch(`${f.base}/v1/streams/EVENTS/messages?start_seq=2`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      const reader = new StreamReader(res);
      const e2 = await reader.nextEvent();
      assert.equal(e2?.id, '2');
      assert.equal(JSON.parse(e2?.data ?? '').data, 'm2');
      assert.equal((await reader.nextEvent())?.id, '3');
      const seq = await publish('ev.b', 'live');
      const live = await reader.nextEvent();
      assert.equal(live?.id, String(seq));
      assert.deepEqual({ ...JSON.parse(live?.data ?? ''), time: 'x' }, { stream: 'EVENTS', seq, subject: 'ev.b', time: 'x', data: 'live', size: 4 });
      await reader.cancel();
      await waitFor(() => f.gateway.stats.activeStreams === 0, 'stream closed');
    });

    it('http stream sse - cut mid-stream and resumed with Last-Event-ID: no gap, no duplicate', async () => {
      await fetch(`${f.base}/v1/streams/EVENTS/purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const first = await publish('ev.r', 'r0');
      for (let i = 1; i < 20; i++) await publish('ev.r', `r${i}`);
      const seen: number[] = [];
      // first connection: read 7 events, then drop the connection
      const a = new StreamReader(await fetch(`${f.base}/v1/streams/EVENTS/messages?subject=ev.r&start_seq=${first}`));
      for (let i = 0; i < 7; i++) seen.push(Number((await a.nextEvent())?.id));
      await a.cancel();
      // meanwhile more messages arrive
      for (let i = 20; i < 25; i++) await publish('ev.r', `r${i}`);
      // second connection resumes after the last id it saw (start_seq is ignored in favour of Last-Event-ID)
      const b = new StreamReader(
        await fetch(`${f.base}/v1/streams/EVENTS/messages?subject=ev.r&start_seq=${first}`, { headers: { 'Last-Event-ID': String(seen[seen.length - 1]) } }),
      );
      while (seen.length < 25) {
        const event = await b.nextEvent();
        if (event === null) break;
        seen.push(Number(event.id));
        assert.equal(JSON.parse(event.data).data, `r${Number(event.id) - first}`);
      }
      assert.equal(await b.nextEvent(300), null, 'no event after the last one');
      await b.cancel();
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => first + i));
    });

    it('http stream sse - start_time starts at the first message stored at or after it', async () => {
      await publish('ev.t', 'before');
      await new Promise((r) => setTimeout(r, 30));
      const from = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      const target = await publish('ev.t', 'after');
      const reader = new StreamReader(await fetch(`${f.base}/v1/streams/EVENTS/messages?subject=ev.t&start_time=${encodeURIComponent(from)}`));
      const event = await reader.nextEvent();
      assert.equal(event?.id, String(target));
      assert.equal(JSON.parse(event?.data ?? '').data, 'after');
      await reader.cancel();
    });

    it('http stream sse - NDJSON lines carry seq; an unknown stream is 404 before streaming', async () => {
      const reader = new StreamReader(await fetch(`${f.base}/v1/streams/EVENTS/messages?subject=ev.t&start_seq=1`, { headers: { accept: 'application/x-ndjson' } }));
      const line = JSON.parse((await reader.nextLine()) ?? '{}');
      assert.equal(typeof line.seq, 'number');
      assert.equal(line.subject, 'ev.t');
      await reader.cancel();
      const missing = await fetch(`${f.base}/v1/streams/NOPE/messages`);
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).err_code, 10059);
    });

    it('http stream sse - curl -N with a Last-Event-ID header resumes after it', { peers: ['curl'] }, async () => {
      const s1 = await publish('ev.curl', 'c1');
      await publish('ev.curl', 'c2');
      const child = spawn('curl', ['-N', '-sS', '-H', `Last-Event-ID: ${s1}`, `${f.base}/v1/streams/EVENTS/messages?subject=ev.curl`], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      try {
        await waitFor(() => out.includes('"data":"c2"'), 'curl prints c2');
        assert.ok(!out.includes('"data":"c1"'), out);
        assert.match(out, new RegExp(`id: ${s1 + 1}\nevent: msg\n`));
      } finally {
        await stopChild(child);
      }
    });
  });
}
