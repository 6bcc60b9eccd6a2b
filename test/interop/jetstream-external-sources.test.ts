// Mirrors and sources of a stream on another server, reached through an API
// prefix (`external: {api, deliver}`, issue 23 items 2 and 4): the origin is
// nats-server 2.15.1, the destination Switchboard, and a relay of two real
// nats.js connections carries `$JS.hub.API.>` and the deliver subjects between
// them, as a leafnode link with a JetStream domain would. The link is cut and
// restored: every origin message arrives once, in order.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, type JetStreamClient, type JetStreamManager, type StreamSource } from '@nats-io/jetstream';
import { startNewNatsServerJetStream, startSwitchboardJetStream, type JetStreamServer } from '../helpers/jetstream.ts';
import { startJsApiRelay, type JsApiRelay } from '../helpers/js-api-relay.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';

const API = '$JS.hub.API';
const DELIVER = 'dlv.hub';
/** Generous: after a cut the destination notices the silence (10s, as nats-server) and asks again. */
const RECOVERY_MS = 60_000;

describe('jetstream external sources - nats-server 2.15.1 origin through an API prefix', { peers: ['nats-server-new'] }, () => {
  let origin: JetStreamServer;
  let dest: Awaited<ReturnType<typeof startSwitchboardJetStream>>;
  let relay: JsApiRelay;
  let onc: NatsConnection;
  let dnc: NatsConnection;
  let ojs: JetStreamClient;
  let ojsm: JetStreamManager;
  let djsm: JetStreamManager;

  before(async () => {
    origin = await startNewNatsServerJetStream();
    dest = await startSwitchboardJetStream();
    relay = await startJsApiRelay(dest.url, dest.engine.router, origin.url, API);
    onc = await connect({ servers: origin.url });
    dnc = await connect({ servers: dest.url });
    ojs = jetstream(onc);
    ojsm = await jetstreamManager(onc);
    djsm = await jetstreamManager(dnc);
  });
  after(async () => {
    await relay?.stop();
    await onc?.close();
    await dnc?.close();
    await dest?.stop();
    await origin?.stop();
  });

  const external = { api: API, deliver: DELIVER };
  const count = (stream: string) => async () => (await djsm.streams.info(stream)).state.messages;
  async function stored(stream: string, n: number): Promise<Array<{ seq: number; subject: string; data: string; source: string }>> {
    const out = [];
    for (let seq = 1; seq <= n; seq++) {
      const m = await djsm.streams.getMessage(stream, { seq });
      assert.ok(m !== null, `${stream} seq ${seq}`);
      out.push({ seq: m.seq, subject: m.subject, data: m.string(), source: m.header.get('Nats-Stream-Source') });
    }
    return out;
  }
  async function cutLink(during: () => Promise<void>): Promise<void> {
    await relay.stop();
    await during();
    relay = await startJsApiRelay(dest.url, dest.engine.router, origin.url, API);
  }

  it('source - maps sensors.> to site1.sensors.> and stores each origin message once across a cut link', async () => {
    await ojsm.streams.add({ name: 'SENS', subjects: ['sensors.>'] });
    for (let i = 1; i <= 30; i++) await ojs.publish(`sensors.t${i % 3}`, `v${i}`);
    const source: StreamSource = { name: 'SENS', external, subject_transforms: [{ src: 'sensors.>', dest: 'site1.sensors.>' }] };
    await djsm.streams.add({ name: 'HUB', sources: [source] });
    await eventually(async () => (await count('HUB')()) === 30, RECOVERY_MS);
    const info = await djsm.streams.info('HUB');
    const si = info.sources?.[0] as Record<string, unknown>;
    assert.deepEqual(si.external, external);
    assert.equal(si.lag, 0);
    assert.ok((si.active as number) >= 0, 'active');
    assert.equal(si.connected, true);
    assert.equal(si.error, undefined);

    await cutLink(async () => {
      for (let i = 31; i <= 60; i++) await ojs.publish(`sensors.t${i % 3}`, `v${i}`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await count('HUB')(), 30, 'nothing arrives while the link is cut');
    });
    await eventually(async () => (await count('HUB')()) >= 60, RECOVERY_MS);
    await new Promise((r) => setTimeout(r, 500));
    const got = await stored('HUB', (await djsm.streams.info('HUB')).state.messages);
    assert.equal(got.length, 60, 'no duplicates');
    got.forEach((m, i) => {
      assert.equal(m.subject, `site1.sensors.t${(i + 1) % 3}`);
      assert.equal(m.data, `v${i + 1}`);
      assert.match(m.source, new RegExp(`^SENS ${i + 1} `));
    });
  });

  it('mirror - keeps the origin sequences and times, and resumes after a cut link', async () => {
    await ojsm.streams.add({ name: 'ORIGM', subjects: ['om.*'] });
    for (let i = 1; i <= 10; i++) await ojs.publish(`om.${i}`, `m${i}`);
    await djsm.streams.add({ name: 'MIRX', mirror: { name: 'ORIGM', external } });
    await eventually(async () => (await djsm.streams.info('MIRX')).state.last_seq === 10, RECOVERY_MS);
    await cutLink(async () => {
      for (let i = 11; i <= 20; i++) await ojs.publish(`om.${i}`, `m${i}`);
    });
    await eventually(async () => (await djsm.streams.info('MIRX')).state.last_seq === 20, RECOVERY_MS);
    const got = await stored('MIRX', 20);
    assert.deepEqual(got.map((m) => [m.seq, m.subject, m.data]), Array.from({ length: 20 }, (_, i) => [i + 1, `om.${i + 1}`, `m${i + 1}`]));
    const o = await ojsm.streams.getMessage('ORIGM', { seq: 7 });
    const d = await djsm.streams.getMessage('MIRX', { seq: 7 });
    assert.equal(d?.time.getTime(), o?.time.getTime(), 'origin time kept');
    const mi = (await djsm.streams.info('MIRX')).mirror as unknown as Record<string, unknown>;
    assert.deepEqual(mi.external, external);
    assert.equal(mi.lag, 0);
  });

  it('work-queue origin - the origin removes only messages the destination has stored (ack_policy flow_control)', async () => {
    await ojsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'], retention: RetentionPolicy.Workqueue });
    for (let i = 1; i <= 40; i++) await ojs.publish(`jobs.${i}`, `j${i}`);
    await djsm.streams.add({ name: 'JOBCOPY', sources: [{ name: 'JOBS', external }] });
    await eventually(async () => (await count('JOBCOPY')()) === 40, RECOVERY_MS);
    // The origin lets go once the destination's flow-control answer acknowledges them.
    await eventually(async () => (await ojsm.streams.info('JOBS')).state.messages === 0, RECOVERY_MS);
    const got = await stored('JOBCOPY', 40);
    assert.deepEqual(got.map((m) => m.data), Array.from({ length: 40 }, (_, i) => `j${i + 1}`));
  });
});
