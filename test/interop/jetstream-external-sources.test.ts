// Mirrors and sources of a stream on another server, reached through an API
// prefix (`external: {api, deliver}`, issue 23 items 2 and 4): the origin is
// nats-server 2.15.1 or another Switchboard (both with nats-server 2.14's
// acked sourcing: ack_policy flow_control), the destination Switchboard, and a relay of two real
// nats.js connections carries `$JS.hub.API.>` and the deliver subjects between
// them, as a leafnode link with a JetStream domain would. The link is cut and
// restored: every origin message arrives once, in order. Each link is visible
// (issue 23 item 5) in stream info, /jsz?streams=true, /metrics and the HTTP
// gateway's stream info.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, type JetStreamClient, type JetStreamManager, type StreamSource } from '@nats-io/jetstream';
import { rmSync } from 'node:fs';
import { createCore, type Core } from '../../core/create-core.ts';
import { OpenAuthorizer } from '../../core/auth/authorizer.ts';
import { createHttpGateway, type HttpGateway } from '../../gateways/http/http-gateway.ts';
import { startNewNatsServerJetStream, startSwitchboardJetStream, tempStoreDir, type JetStreamServer } from '../helpers/jetstream.ts';
import type { Peer } from '../helpers/peers.ts';
import { startJsApiRelay, type JsApiRelay } from '../helpers/js-api-relay.ts';
import { eventually } from '../helpers/jetstream-consumers.ts';

const API = '$JS.hub.API';
const DELIVER = 'dlv.hub';
/** Generous: after a cut the destination notices the silence (10s, as nats-server) and asks again. */
const RECOVERY_MS = 60_000;

interface OriginTarget {
  readonly name: string;
  readonly peers?: readonly Peer[];
  start(): Promise<JetStreamServer>;
}

const ORIGINS: OriginTarget[] = [
  { name: 'nats-server 2.15.1', peers: ['nats-server-new'], start: startNewNatsServerJetStream },
  { name: 'switchboard', start: () => startSwitchboardJetStream() },
];

for (const target of ORIGINS) {
  describe(`jetstream external sources - ${target.name} origin through an API prefix`, { peers: target.peers }, () => {
    let origin: JetStreamServer;
    let dest: Core;
    let destUrl: string;
    let storeDir: string;
    let http: HttpGateway;
    let relay: JsApiRelay;
    let onc: NatsConnection;
    let dnc: NatsConnection;
    let ojs: JetStreamClient;
    let ojsm: JetStreamManager;
    let djsm: JetStreamManager;

    before(async () => {
      origin = await target.start();
      storeDir = tempStoreDir();
      dest = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { storeDir }, monitor: { host: '127.0.0.1', port: 0 } });
      await dest.start();
      destUrl = `nats://127.0.0.1:${dest.nats.port}`;
      http = createHttpGateway({ authorizer: new OpenAuthorizer(), host: '127.0.0.1', port: 0, broker: dest.broker });
      await http.start();
      relay = await startJsApiRelay(destUrl, dest.router, origin.url, API);
      onc = await connect({ servers: origin.url });
      dnc = await connect({ servers: destUrl });
      ojs = jetstream(onc);
      ojsm = await jetstreamManager(onc);
      djsm = await jetstreamManager(dnc);
    });
    after(async () => {
      await relay?.stop();
      await onc?.close();
      await dnc?.close();
      await http?.stop();
      await dest?.stop();
      if (storeDir !== undefined) rmSync(storeDir, { recursive: true, force: true });
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
      relay = await startJsApiRelay(destUrl, dest.router, origin.url, API);
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

    it('work-queue origin - created after the destination, it removes only messages the destination has stored (ack_policy flow_control)', async () => {
      // The destination first: the missing origin is the link's error, and does not cost it the acknowledged consumer later.
      await djsm.streams.add({ name: 'JOBCOPY', sources: [{ name: 'JOBS', external }] });
      await eventually(async () => (await djsm.streams.info('JOBCOPY')).sources?.[0]?.error?.err_code === 10059, RECOVERY_MS);
      await ojsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'], retention: RetentionPolicy.Workqueue });
      for (let i = 1; i <= 40; i++) await ojs.publish(`jobs.${i}`, `j${i}`);
      await eventually(async () => (await count('JOBCOPY')()) === 40, RECOVERY_MS);
      const consumers = await ojsm.consumers.list('JOBS').next();
      assert.deepEqual(consumers.map((c) => c.config.ack_policy), ['flow_control'], 'the acknowledged kind of sourcing consumer');
      // The origin lets go once the destination's flow-control answer acknowledges them.
      await eventually(async () => (await ojsm.streams.info('JOBS')).state.messages === 0, RECOVERY_MS);
      const got = await stored('JOBCOPY', 40);
      assert.deepEqual(got.map((m) => m.data), Array.from({ length: 40 }, (_, i) => `j${i + 1}`));
    });

    it('source - a restarted destination resumes after the last origin sequence it stored (read back from its messages)', async () => {
      await ojsm.streams.add({ name: 'RST', subjects: ['rst.>'] });
      for (let i = 1; i <= 10; i++) await ojs.publish(`rst.${i}`, `r${i}`);
      const dir = tempStoreDir();
      const startDest = async (): Promise<{ core: Core; nc: NatsConnection; relay: JsApiRelay }> => {
        const core = createCore({ server: { host: '127.0.0.1', port: 0 }, jetstream: { storeDir: dir } });
        await core.start();
        const url = `nats://127.0.0.1:${core.nats.port}`;
        return { core, nc: await connect({ servers: url }), relay: await startJsApiRelay(url, core.router, origin.url, API) };
      };
      const stopDest = async (d: { core: Core; nc: NatsConnection; relay: JsApiRelay }): Promise<void> => {
        await d.relay.stop();
        await d.nc.close();
        await d.core.stop();
      };
      let d = await startDest();
      try {
        const jsm = await jetstreamManager(d.nc);
        await jsm.streams.add({ name: 'RSTCOPY', sources: [{ name: 'RST', external }] });
        await eventually(async () => (await jsm.streams.info('RSTCOPY')).state.messages === 10, RECOVERY_MS);
        await stopDest(d);
        for (let i = 11; i <= 20; i++) await ojs.publish(`rst.${i}`, `r${i}`);
        d = await startDest();
        const again = await jetstreamManager(d.nc);
        await eventually(async () => (await again.streams.info('RSTCOPY')).state.messages >= 20, RECOVERY_MS);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal((await again.streams.info('RSTCOPY')).state.messages, 20, 'no duplicates');
        const data = [];
        for (let seq = 1; seq <= 20; seq++) data.push((await again.streams.getMessage('RSTCOPY', { seq }))?.string());
        assert.deepEqual(data, Array.from({ length: 20 }, (_, i) => `r${i + 1}`));
      } finally {
        await stopDest(d);
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('visible links - stream info, /jsz?streams=true, /metrics and the HTTP API show connected, lag, transfer, backlog age and the error after a cut', async () => {
      await ojsm.streams.add({ name: 'VISO', subjects: ['vis.>'] });
      for (let i = 1; i <= 5; i++) await ojs.publish(`vis.${i}`, `x${i}`);
      await djsm.streams.add({ name: 'VIS', sources: [{ name: 'VISO', external }] });
      await eventually(async () => (await count('VIS')()) === 5, RECOVERY_MS);
      const monitor = `http://127.0.0.1:${dest.monitor?.port}`;
      const linkIn = (detail: Array<Record<string, any>>) => detail.find((s) => s.name === 'VIS')?.sources?.[0] as Record<string, unknown>;

      const jsz = (await (await fetch(`${monitor}/jsz?streams=true`)).json()) as Record<string, any>;
      const viaJsz = linkIn(jsz.account_details[0].stream_detail);
      assert.equal(viaJsz.name, 'VISO');
      assert.deepEqual(viaJsz.external, external);
      assert.equal(viaJsz.connected, true);
      assert.equal(viaJsz.lag, 0);
      assert.equal(viaJsz.backlog_age, 0);
      assert.ok(Date.parse(String(viaJsz.last_transfer)) > Date.now() - 60_000, 'last_transfer is recent');
      assert.equal((await (await fetch(`${monitor}/jsz`)).json()).account_details, undefined, 'detail only when asked');

      const viaHttp = (await (await fetch(`${http.url}/v1/streams/VIS`)).json()) as Record<string, any>;
      assert.equal(viaHttp.sources[0].connected, true);
      assert.equal(viaHttp.sources[0].seq, 5);
      assert.equal(typeof viaHttp.sources[0].last_transfer, 'string');

      const labels = `{stream="VIS",origin="VISO",role="source",api="${API}"}`;
      const metric = async (name: string): Promise<number> => {
        const text = await (await fetch(`${monitor}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
        assert.ok(line !== undefined, `${name}${labels} in /metrics`);
        return Number(line.slice(line.lastIndexOf(' ') + 1));
      };
      assert.equal(await metric('switchboard_jetstream_source_connected'), 1);
      assert.equal(await metric('switchboard_jetstream_source_lag_messages'), 0);
      assert.equal(await metric('switchboard_jetstream_source_last_error_code'), 0);
      assert.equal(await metric('switchboard_jetstream_source_backlog_age_seconds'), 0);
      assert.ok((await metric('switchboard_jetstream_source_last_transfer_timestamp_seconds')) > Date.now() / 1000 - 60);

      // Cut: after the stall interval the link shows as down, and the unanswered re-create as its error.
      await cutLink(async () => {
        await eventually(async () => (await metric('switchboard_jetstream_source_connected')) === 0, RECOVERY_MS, 200);
        const down = linkIn(((await (await fetch(`${monitor}/jsz?streams=true`)).json()) as Record<string, any>).account_details[0].stream_detail);
        assert.equal(down.connected, false);
        await eventually(async () => (await metric('switchboard_jetstream_source_last_error_code')) !== 0, RECOVERY_MS, 200);
      });
      await ojs.publish('vis.6', 'x6');
      await eventually(async () => (await count('VIS')()) === 6, RECOVERY_MS);
      assert.equal(await metric('switchboard_jetstream_source_connected'), 1);
      assert.equal(await metric('switchboard_jetstream_source_last_error_code'), 0);
    });
  });
}
