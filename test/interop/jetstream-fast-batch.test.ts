// ADR-50 fast batch publish (nats-server 2.14, `allow_batched`): the batch
// rides in the reply subject `<prefix>.<id>.<flow>.<gap>.<seq>.<op>.$FI` and
// the server paces the publisher with flow acks. Through the official client's
// fast ingest (`startFastIngest`, @nats-io/jetstream/internal) and raw
// publishes whose every answer is recorded, the same cases against a current
// nats-server (NATS_SERVER_NEW): flow acks, gaps, errors and PubAcks must
// match message for message (stream.go processJetStreamFastBatchMsg,
// jetstream_batching.go).

import assert from 'node:assert/strict';
import { headers, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import { startFastIngest } from '@nats-io/jetstream/internal';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, rejectsWithCode, useJetStream, type JetStreamContext } from '../helpers/jetstream.ts';

const Op = { Start: 0, Append: 1, Commit: 2, Eob: 3, Ping: 4 } as const;

let counter = 0;
const newId = (): string => `f${Date.now().toString(36)}${(counter++).toString(36)}`;

/** A raw fast batch: publish with the reply subject the ADR describes, and record every answer on the batch's inbox. */
class RawBatch {
  readonly answers: Array<Record<string, unknown>> = [];
  private readonly sub: Subscription;
  private readonly done: Promise<void>;

  constructor(private readonly ctx: JetStreamContext, readonly id: string, private readonly flow: number, private readonly gap: 'ok' | 'fail') {
    const sub = ctx.nc.subscribe(`_INBOX.fb.${id}.>`);
    this.sub = sub;
    this.done = (async () => {
      for await (const m of sub) {
        const body = m.json<Record<string, unknown>>();
        this.answers.push(body);
        // The terminal answer: a PubAck (with `batch`) or a refusal; flow messages carry `type`.
        if (body.type === undefined) break;
      }
    })();
  }

  send(subject: string, seq: number, op: number, body = '', hdrs?: MsgHdrs): void {
    this.ctx.nc.publish(subject, body, { reply: `_INBOX.fb.${this.id}.${this.flow}.${this.gap}.${seq}.${op}.$FI`, headers: hdrs });
  }

  /** Every answer up to the terminal one. */
  async finish(): Promise<Array<Record<string, unknown>>> {
    const timer = setTimeout(() => this.sub.unsubscribe(), 5000);
    await this.done;
    clearTimeout(timer);
    return this.answers;
  }

  /** Wait until `n` answers arrived (flow acks are sent as messages are stored). */
  async until(n: number): Promise<Array<Record<string, unknown>>> {
    for (let i = 0; i < 200 && this.answers.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return this.answers;
  }
}

for (const target of currentJetStreamTargets()) {
  describe(`jetstream fast batch (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);
    const addStream = async (name: string, extra: Record<string, unknown> = {}): Promise<void> => {
      await ctx.jsm.streams.add({ name, subjects: [`${name.toLowerCase()}.>`], allow_batched: true, ...extra });
    };
    const count = async (stream: string): Promise<number> => (await ctx.jsm.streams.info(stream)).state.messages;

    it('fast batch - the client ingests 2000 messages paced by flow acks; the last gets the PubAck with batch and count', async () => {
      await addStream('INGEST');
      const fi = await startFastIngest(ctx.nc, 'ingest.a', 'm1', { ackInterval: 50, allowGaps: false });
      for (let i = 2; i < 2000; i++) await fi.add('ingest.a', `m${i}`);
      const progress = await fi.ping();
      assert.ok(progress.ackSeq >= 1900, `acknowledged up to ${progress.ackSeq}`);
      const ack = await fi.last('ingest.a', 'm2000');
      assert.deepEqual({ ...ack }, { stream: 'INGEST', seq: 2000, batch: fi.batch, count: 2000 });
      assert.equal(await count('INGEST'), 2000);
      const m = await ctx.jsm.streams.getMessage('INGEST', { seq: 1234 });
      assert.equal(m?.string(), 'm1234');
      // A fast batch stores no batch headers.
      assert.equal(m?.header?.get('Nats-Batch-Id') ?? '', '');
    });

    it('fast batch - end() commits without storing a message; the count leaves it out', async () => {
      await addStream('EOBF');
      const fi = await startFastIngest(ctx.nc, 'eobf.a', '1', { ackInterval: 10, allowGaps: false });
      await fi.add('eobf.a', '2');
      const ack = await fi.end();
      assert.deepEqual({ ...ack }, { stream: 'EOBF', seq: 2, batch: fi.batch, count: 2 });
      assert.equal(await count('EOBF'), 2);
    });

    it('fast batch - refused on a stream without allow_batched', async () => {
      await ctx.jsm.streams.add({ name: 'NOFAST', subjects: ['nofast.>'] });
      await rejectsWithCode(startFastIngest(ctx.nc, 'nofast.a', 'x', { ackInterval: 10, allowGaps: false }), 10205, 'batch publish is disabled');
      assert.equal(await count('NOFAST'), 0);
    });

    it('fast batch - flow acks every `flow` messages, then the PubAck', async () => {
      await addStream('FLOW');
      const b = new RawBatch(ctx, newId(), 10, 'fail');
      b.send('flow.a', 1, Op.Start);
      for (let seq = 2; seq < 25; seq++) b.send('flow.a', seq, Op.Append);
      b.send('flow.a', 25, Op.Commit);
      assert.deepEqual(await b.finish(), [
        { type: 'ack', seq: 0, msgs: 10 },
        { type: 'ack', seq: 10, msgs: 10 },
        { type: 'ack', seq: 20, msgs: 10 },
        { stream: 'FLOW', seq: 25, batch: b.id, count: 25 },
      ]);
    });

    it('fast batch - a second publisher on the stream starts at 1 and doubles towards its share', async () => {
      await addStream('SHARE');
      const first = new RawBatch(ctx, newId(), 100, 'ok');
      first.send('share.a', 1, Op.Start);
      assert.deepEqual(await first.until(1), [{ type: 'ack', seq: 0, msgs: 100 }]);
      const second = new RawBatch(ctx, newId(), 100, 'ok');
      for (let seq = 1; seq <= 20; seq++) second.send('share.b', seq, seq === 1 ? Op.Start : Op.Append);
      second.send('share.b', 21, Op.Eob);
      assert.deepEqual(await second.finish(), [
        { type: 'ack', seq: 0, msgs: 1 },
        { type: 'ack', seq: 1, msgs: 2 },
        { type: 'ack', seq: 3, msgs: 4 },
        { type: 'ack', seq: 7, msgs: 8 },
        { type: 'ack', seq: 15, msgs: 16 },
        { stream: 'SHARE', seq: 21, batch: second.id, count: 20 },
      ]);
      first.send('share.a', 2, Op.Eob);
      assert.deepEqual((await first.finish()).at(-1), { stream: 'SHARE', seq: 1, batch: first.id, count: 1 });
    });

    it('fast batch - a gap is reported at once; gap "fail" ends the batch before it, gap "ok" goes on', async () => {
      await addStream('GAPS');
      const cases = [
        { gap: 'fail', subject: 'gaps.fail', commit: false, end: { seq: 2, count: 2 } },
        { gap: 'ok', subject: 'gaps.ok', commit: true, end: { seq: 6, count: 5 } },
      ] as const;
      for (const c of cases) {
        const b = new RawBatch(ctx, newId(), 10, c.gap);
        for (const seq of [1, 2, 4]) b.send(c.subject, seq, seq === 1 ? Op.Start : Op.Append);
        if (c.commit) b.send(c.subject, 5, Op.Commit);
        assert.deepEqual(await b.finish(), [{ type: 'ack', seq: 0, msgs: 10 }, { type: 'gap', last_seq: 3, seq: 4 }, { stream: 'GAPS', ...c.end, batch: b.id }], c.gap);
      }
      // "fail" stored 1 and 2; "ok" stored 1, 2, 4 and 5.
      assert.equal(await count('GAPS'), 6);
    });

    it('fast batch - a refused message is reported as "err"; with gap "fail" the batch ends before it', async () => {
      await addStream('ERRS');
      const expect = headers();
      expect.set('Nats-Expected-Last-Sequence', '99');
      const b = new RawBatch(ctx, newId(), 10, 'fail');
      b.send('errs.a', 1, Op.Start);
      b.send('errs.a', 2, Op.Append, '', expect);
      assert.deepEqual(await b.finish(), [
        { type: 'ack', seq: 0, msgs: 10 },
        { type: 'err', seq: 2, error: { code: 400, err_code: 10071, description: 'wrong last sequence: 1' } },
        { stream: 'ERRS', seq: 1, batch: b.id, count: 1 },
      ]);
      const ok = new RawBatch(ctx, newId(), 10, 'ok');
      ok.send('errs.b', 1, Op.Start);
      ok.send('errs.b', 2, Op.Append, '', expect);
      ok.send('errs.b', 3, Op.Commit);
      assert.deepEqual(await ok.finish(), [
        { type: 'ack', seq: 0, msgs: 10 },
        { type: 'err', seq: 2, error: { code: 400, err_code: 10071, description: 'wrong last sequence: 2' } },
        { stream: 'ERRS', seq: 3, batch: ok.id, count: 3 },
      ]);
      assert.equal(await count('ERRS'), 3);
    });

    it('fast batch - a ping re-sends the last flow ack', async () => {
      await addStream('PING');
      const b = new RawBatch(ctx, newId(), 5, 'fail');
      for (let seq = 1; seq <= 7; seq++) b.send('ping.a', seq, seq === 1 ? Op.Start : Op.Append);
      b.send('ping.a', 7, Op.Ping);
      assert.deepEqual(await b.until(3), [
        { type: 'ack', seq: 0, msgs: 5 },
        { type: 'ack', seq: 5, msgs: 5 },
        { type: 'ack', seq: 5, msgs: 5 },
      ]);
      b.send('ping.a', 8, Op.Eob);
      assert.deepEqual((await b.finish()).at(-1), { stream: 'PING', seq: 7, batch: b.id, count: 7 });
    });

    it('fast batch - pattern errors: a bad gap mode, an unknown batch, an id over 64 characters', async () => {
      await addStream('PATTERN');
      const ask = async (reply: string): Promise<unknown> => {
        const sub = ctx.nc.subscribe(reply, { max: 1, timeout: 3000 });
        ctx.nc.publish('pattern.a', '', { reply });
        for await (const m of sub) return m.json<{ error: unknown }>().error;
        return null;
      };
      assert.deepEqual(await ask('_INBOX.p.id1.10.maybe.1.0.$FI'), { code: 400, err_code: 10206, description: 'batch publish pattern is invalid' });
      assert.deepEqual(await ask('_INBOX.p.id2.10.ok.2.0.$FI'), { code: 400, err_code: 10206, description: 'batch publish pattern is invalid' });
      assert.deepEqual(await ask(`_INBOX.p.${newId()}.10.ok.5.1.$FI`), { code: 400, err_code: 10208, description: 'batch publish ID unknown' });
      assert.deepEqual(await ask(`_INBOX.p.${'x'.repeat(65)}.10.ok.1.0.$FI`), { code: 400, err_code: 10207, description: 'batch publish ID is invalid' });
      assert.equal(await count('PATTERN'), 0);
    });

    it('fast batch - a mirror cannot allow batched publish', async () => {
      await ctx.jsm.streams.add({ name: 'ORIGINF', subjects: ['originf.>'] });
      await rejectsWithCode(ctx.jsm.streams.add({ name: 'MIRRF', mirror: { name: 'ORIGINF' }, allow_batched: true }), 10209, 'stream mirrors can not also use batch publishing');
    });
  });
}
