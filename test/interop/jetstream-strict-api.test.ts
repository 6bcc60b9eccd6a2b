// Strict API (nats-server 2.12, on by default): a JetStream API request with
// a field the server does not know is refused with 10025
// `invalid JSON: json: unknown field "<name>"`, nested objects included,
// instead of the field being silently ignored. The requests nats-server
// decodes leniently (the pull consumer's next-message request) still ignore
// unknown fields. Raw API requests, the same cases against a current
// nats-server (NATS_SERVER_NEW); `strict: false` turns it off.

import assert from 'node:assert/strict';
import { connect, headers } from '@nats-io/transport-node';
import { describe, it } from '../helpers/peer-test.ts';
import { currentJetStreamTargets, startSwitchboardJetStream, useJetStream } from '../helpers/jetstream.ts';

const T = 'io.nats.jetstream.api.v1.';

function unknownField(name: string): { code: number; err_code: number; description: string } {
  return { code: 400, err_code: 10025, description: `invalid JSON: json: unknown field ${JSON.stringify(name)}` };
}

for (const target of currentJetStreamTargets()) {
  describe(`jetstream strict API (${target.name})`, { peers: target.peers }, () => {
    const ctx = useJetStream(target);

    it('strict api - stream create and update refuse an unknown field, also inside nested objects', async () => {
      const create = (body: Record<string, unknown>) => ctx.api(`$JS.API.STREAM.CREATE.${String(body.name)}`, body);
      assert.deepEqual(await create({ name: 'STRICT', subjects: ['strict.>'], max_msgz: 5 }), { type: `${T}stream_create_response`, error: unknownField('max_msgz') });
      assert.deepEqual((await create({ name: 'STRICT', subjects: ['strict.>'], consumer_limits: { max_ack_pendin: 1 } })).error, unknownField('max_ack_pendin'));
      assert.deepEqual((await create({ name: 'STRICT', subjects: ['strict.>'], subject_transform: { src: 'strict.>', dest: 'x.>', extra: 1 } })).error, unknownField('extra'));
      await ctx.jsm.streams.add({ name: 'ORIGINS', subjects: ['origins.>'] });
      assert.deepEqual((await create({ name: 'STRICT', sources: [{ name: 'ORIGINS', filter: 'origins.a' }] })).error, unknownField('filter'));
      // The first unknown field in the document is the one named.
      assert.deepEqual((await create({ name: 'STRICT', subjects: ['strict.>'], aaa: 1, bbb: 2 })).error, unknownField('aaa'));
      assert.equal((await ctx.jsm.streams.names().next()).includes('STRICT'), false);
      // Known fields (metadata takes any keys) pass.
      const ok = await create({ name: 'STRICT', subjects: ['strict.>'], metadata: { anything: 'goes' }, pedantic: false });
      assert.equal(ok.error, undefined);
      const update = await ctx.api('$JS.API.STREAM.UPDATE.STRICT', { name: 'STRICT', subjects: ['strict.>'], max_msgs: 10, colour: 'blue' });
      assert.deepEqual(update, { type: `${T}stream_update_response`, error: unknownField('colour') });
    });

    it('strict api - a request whose Nats-Required-Api-Level is above the server\'s is refused with 412 (ADR-44)', async () => {
      await ctx.jsm.streams.add({ name: 'LEVEL', subjects: ['level.>'] });
      const ask = async (level: string) => {
        const h = headers();
        h.set('Nats-Required-Api-Level', level);
        return (await ctx.nc.request('$JS.API.STREAM.INFO.LEVEL', '', { headers: h, timeout: 2000 })).json<Record<string, any>>();
      };
      const refused = await ask('99');
      assert.equal(refused.type, `${T}stream_info_response`);
      assert.deepEqual(refused.error, { code: 412, err_code: 10185, description: 'JetStream minimum api level required' });
      assert.equal((await ask('nope')).error?.err_code, 10185);
      assert.equal((await ask('0')).config?.name, 'LEVEL');
      // Direct get answers with a status line.
      await ctx.jsm.streams.add({ name: 'LEVELD', subjects: ['leveld.>'], allow_direct: true });
      const h = headers();
      h.set('Nats-Required-Api-Level', '99');
      const inbox = ctx.nc.subscribe('_INBOX.level-direct', { max: 1, timeout: 3000 });
      ctx.nc.publish('$JS.API.DIRECT.GET.LEVELD', JSON.stringify({ seq: 1 }), { headers: h, reply: '_INBOX.level-direct' });
      for await (const m of inbox) assert.deepEqual([m.headers?.code, m.headers?.description, m.data.length], [412, 'Required Api Level', 0]);
      assert.equal(inbox.getReceived(), 1);
    });

    it('strict api - info, names, list, purge, message get and delete refuse unknown fields', async () => {
      await ctx.jsm.streams.add({ name: 'STRICTREQ', subjects: ['strictreq.>'] });
      await ctx.js.publish('strictreq.a', 'x');
      const cases: Array<[string, Record<string, unknown>, string, string]> = [
        ['$JS.API.STREAM.INFO.STRICTREQ', { subjects_filter: '>', details: true }, 'details', 'stream_info_response'],
        ['$JS.API.STREAM.NAMES', { subject: 'strictreq.a', limit: 5 }, 'limit', 'stream_names_response'],
        ['$JS.API.STREAM.LIST', { offset: 0, filter: 'x' }, 'filter', 'stream_list_response'],
        ['$JS.API.STREAM.PURGE.STRICTREQ', { sequence: 5 }, 'sequence', 'stream_purge_response'],
        ['$JS.API.STREAM.MSG.GET.STRICTREQ', { seq: 1, subject: 'strictreq.a' }, 'subject', 'stream_msg_get_response'],
        ['$JS.API.STREAM.MSG.DELETE.STRICTREQ', { seq: 1, erase: true }, 'erase', 'stream_msg_delete_response'],
      ];
      for (const [subject, body, field, type] of cases) {
        const answer = await ctx.api(subject, body);
        assert.equal(answer.type, `${T}${type}`, subject);
        assert.deepEqual(answer.error, unknownField(field), subject);
      }
      assert.equal((await ctx.jsm.streams.info('STRICTREQ')).state.messages, 1, 'nothing was purged or deleted');
    });

    it('strict api - consumer create refuses an unknown field in the request or its config; the next-message request stays lenient', async () => {
      await ctx.jsm.streams.add({ name: 'STRICTC', subjects: ['strictc.>'] });
      await ctx.js.publish('strictc.a', 'hello');
      const create = (body: Record<string, unknown>) => ctx.api('$JS.API.CONSUMER.CREATE.STRICTC.pull', { stream_name: 'STRICTC', ...body });
      assert.deepEqual(await create({ config: { name: 'pull', ack_policy: 'explicit', ack_wiat: 1 } }), { type: `${T}consumer_create_response`, error: unknownField('ack_wiat') });
      assert.deepEqual((await create({ config: { name: 'pull', ack_policy: 'explicit' }, options: {} })).error, unknownField('options'));
      assert.equal((await create({ config: { name: 'pull', ack_policy: 'explicit' } })).error, undefined);
      const names = await ctx.api('$JS.API.CONSUMER.NAMES.STRICTC', { offset: 0, subject: 'x' });
      assert.deepEqual(names.error, unknownField('subject'));
      // nats-server decodes the pull request without strictness: an unknown field is ignored.
      // (A delivered message keeps its stream subject, so it is read from a subscription, not as a request's answer.)
      const inbox = ctx.nc.subscribe('_INBOX.strict-next', { max: 1, timeout: 5000 });
      ctx.nc.publish('$JS.API.CONSUMER.MSG.NEXT.STRICTC.pull', JSON.stringify({ batch: 1, no_wait: true, unheard_of: 1 }), { reply: '_INBOX.strict-next' });
      for await (const m of inbox) assert.equal(m.string(), 'hello');
      assert.equal(inbox.getReceived(), 1);
    });
  });
}

describe('jetstream strict API - off with strict: false (switchboard)', () => {
  it('strict api - with strict off an unknown field is ignored, as before 2.12', async () => {
    const server = await startSwitchboardJetStream({ strict: false });
    const nc = await connect({ servers: server.url });
    try {
      const m = await nc.request('$JS.API.STREAM.CREATE.LAX', JSON.stringify({ name: 'LAX', subjects: ['lax.>'], max_msgz: 5 }), { timeout: 2000 });
      const answer = m.json<{ error?: unknown; config?: { name: string } }>();
      assert.equal(answer.error, undefined);
      assert.equal(answer.config?.name, 'LAX');
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
