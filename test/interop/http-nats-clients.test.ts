// What the HTTP gateway writes, the official NATS clients read, and the other
// way round: KV with @nats-io/kv and objects with @nats-io/obj, over the same
// JetStream (embedded Switchboard, and nats-server -js).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { httpJetStreamTargets, type HttpFixture } from './http-fixture.ts';

const postJson = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

for (const target of httpJetStreamTargets()) {
  describe(`http with nats clients (${target.name})`, { peers: target.peers }, () => {
    let f: HttpFixture;
    let nc: NatsConnection;
    let kv: KV;
    let os: ObjectStore;
    before(async () => {
      f = await target.start();
      nc = await connect({ servers: f.natsUrl });
      assert.equal((await fetch(`${f.base}/v1/buckets`, postJson({ bucket: 'shared', history: 3, storage: 'memory' }))).status, 201);
      assert.equal((await fetch(`${f.base}/v1/objects`, postJson({ bucket: 'blobs', storage: 'memory' }))).status, 201);
      kv = await new Kvm(jetstream(nc)).open('shared');
      os = await new Objm(jetstream(nc)).open('blobs');
    });
    after(async () => {
      await nc.close();
      await f.stop();
    });

    it('http nats clients - KV written over HTTP is read by @nats-io/kv, and the other way round', async () => {
      const put = await fetch(`${f.base}/v1/kv/shared/color`, { method: 'PUT', body: 'blue' });
      const { revision } = await put.json();
      const entry = await kv.get('color');
      assert.equal(entry?.string(), 'blue');
      assert.equal(entry?.revision, revision);

      const rev = await kv.put('size', 'L');
      const read = await fetch(`${f.base}/v1/kv/shared/size`);
      assert.equal(await read.text(), 'L');
      assert.equal(read.headers.get('etag'), `"${rev}"`);
      // compare-and-set across clients
      assert.equal((await fetch(`${f.base}/v1/kv/shared/size`, { method: 'PUT', headers: { 'if-match': `"${rev}"` }, body: 'XL' })).status, 200);
      await assert.rejects(kv.update('size', 'S', rev));

      await kv.delete('color');
      assert.equal((await fetch(`${f.base}/v1/kv/shared/color`)).status, 404);
      const keys = (await (await fetch(`${f.base}/v1/buckets/shared/keys`)).json()).keys;
      assert.deepEqual(keys, ['size']);
      const listed: string[] = [];
      for await (const key of await kv.keys()) listed.push(key);
      assert.deepEqual(listed.sort(), ['size']);
    });

    it('http nats clients - objects uploaded over HTTP are read by @nats-io/obj, and the other way round', async () => {
      const data = randomBytes(300_000);
      assert.equal((await fetch(`${f.base}/v1/objects/blobs/report.bin`, { method: 'PUT', body: data })).status, 201);
      const info = await os.info('report.bin');
      assert.equal(info?.size, data.length);
      const blob = await os.getBlob('report.bin'); // nats.js checks the digest
      assert.deepEqual(Buffer.from(blob ?? []), data);

      const other = randomBytes(200_000);
      await os.putBlob({ name: 'from-nats.bin' }, other);
      const download = await fetch(`${f.base}/v1/objects/blobs/from-nats.bin`);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), other);
      const names = (await (await fetch(`${f.base}/v1/objects/blobs`)).json()).objects.map((o: { name: string }) => o.name).sort();
      assert.deepEqual(names, ['from-nats.bin', 'report.bin']);
    });
  });
}
