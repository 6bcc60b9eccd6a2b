// Object stores with the official @nats-io/obj client (Objm), unchanged, run
// against Switchboard and, as the differential reference, Debian's
// `nats-server -js` (a fresh store directory per server). The layout is ADR-20
// as the client builds it: stream OBJ_<bucket>, chunks on $O.<bucket>.C.<nuid>,
// metadata (last per subject, rolled up) on $O.<bucket>.M.<name>.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Objm, type ObjectResult, type ObjectStore, type ObjectWatchInfo } from '@nats-io/obj';
import { jetStreamTargets, type JetStreamServer } from '../helpers/jetstream.ts';

const MiB = 1024 * 1024;

/** ADR-20 digest: "SHA-256=" + base64url (padded) of the SHA-256 of the content. */
const adr20Digest = (data: Uint8Array): string => `SHA-256=${createHash('sha256').update(data).digest('base64url')}=`;

/** The whole body of a get, and whether the client's own digest check passed. */
async function readAll(result: ObjectResult): Promise<{ data: Buffer; error: Error | null }> {
  const chunks: Uint8Array[] = [];
  const reader = result.data.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  // the client resolves `error` with nothing once its digest matched, rejects the stream otherwise
  return { data: Buffer.concat(chunks), error: (await result.error) ?? null };
}

for (const target of jetStreamTargets()) {
  describe(`object clients (${target.name})`, { peers: target.peers }, () => {
    let server: JetStreamServer;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let objm: Objm;
    before(async () => {
      server = await target.start();
      nc = await connect({ servers: server.url, maxPayload: 8 * MiB } as never);
      jsm = await jetstreamManager(nc);
      objm = new Objm(jetstream(nc));
    });
    after(async () => {
      await nc?.close();
      await server?.stop();
    });

    it('obj - create a bucket: the stream is laid out as ADR-20 says', async () => {
      const os = await objm.create('layout', { description: 'files' });
      const status = await os.status();
      assert.equal(status.bucket, 'layout');
      assert.equal(status.description, 'files');
      assert.equal(status.sealed, false);
      const si = await jsm.streams.info('OBJ_layout');
      assert.deepEqual(si.config.subjects, ['$O.layout.C.>', '$O.layout.M.>']);
      assert.equal(si.config.allow_rollup_hdrs, true);
      assert.equal(si.config.discard, 'new');
    });

    describe('obj - objects', () => {
      let os: ObjectStore;
      before(async () => {
        os = await objm.create('files');
      });

      it('obj - put and get a 10 MiB object: chunked, same bytes, digest checked', async () => {
        const data = randomBytes(10 * MiB);
        const info = await os.putBlob({ name: 'big.bin', description: 'ten mebibytes' }, data);
        assert.equal(info.size, data.length);
        assert.equal(info.chunks, Math.ceil(data.length / (128 * 1024)));
        assert.equal(info.digest, adr20Digest(data));
        assert.equal(info.deleted, false);
        const result = await os.get('big.bin');
        assert.ok(result);
        assert.equal(result.info.digest, adr20Digest(data));
        const { data: back, error } = await readAll(result);
        assert.equal(error, null, 'the client verified the digest');
        assert.equal(back.length, data.length);
        assert.ok(back.equals(data), 'same bytes');
        const chunks = await jsm.streams.info('OBJ_files', { subjects_filter: `$O.files.C.${info.nuid}` });
        assert.equal(chunks.state.subjects?.[`$O.files.C.${info.nuid}`], info.chunks);
      });

      it('obj - putting an object again replaces it and drops the old chunks', async () => {
        const first = await os.putBlob({ name: 'doc.txt' }, Buffer.from('version one'));
        const second = await os.putBlob({ name: 'doc.txt' }, Buffer.from('version two, longer'));
        assert.notEqual(first.nuid, second.nuid);
        assert.equal(Buffer.from((await os.getBlob('doc.txt')) ?? []).toString(), 'version two, longer');
        const si = await jsm.streams.info('OBJ_files', { subjects_filter: `$O.files.C.${first.nuid}` });
        assert.equal(si.state.subjects?.[`$O.files.C.${first.nuid}`], undefined);
        const empty = await os.putBlob({ name: 'empty' }, new Uint8Array(0));
        assert.equal(empty.size, 0);
        assert.equal(Buffer.from((await os.getBlob('empty')) ?? [1]).length, 0);
      });

      it('obj - a small max_chunk_size gives many chunks; previousRevision guards a replace', async () => {
        const data = randomBytes(10_000);
        const info = await os.putBlob({ name: 'chunky', options: { max_chunk_size: 1024 } }, data);
        assert.equal(info.chunks, 10);
        assert.equal(info.digest, adr20Digest(data));
        assert.ok(Buffer.from((await os.getBlob('chunky')) ?? []).equals(data));
        await assert.rejects(os.putBlob({ name: 'chunky' }, Buffer.from('x'), { previousRevision: info.revision - 1 }), /wrong last sequence/);
        assert.ok(Buffer.from((await os.getBlob('chunky')) ?? []).equals(data), 'a refused replace leaves the object as it was');
        const replaced = await os.putBlob({ name: 'chunky' }, Buffer.from('y'), { previousRevision: info.revision });
        assert.equal(replaced.size, 1);
      });

      it('obj - info and list: metadata of live objects; a missing name is null', async () => {
        await os.putBlob({ name: 'meta.json', headers: undefined, metadata: { owner: 'ops' } }, Buffer.from('{}'));
        const info = await os.info('meta.json');
        assert.ok(info);
        assert.equal(info.name, 'meta.json');
        assert.equal(info.bucket, 'files');
        assert.equal(info.size, 2);
        assert.deepEqual(info.metadata, { owner: 'ops' });
        assert.ok(info.revision > 0);
        assert.equal(await os.info('missing'), null);
        assert.equal(await os.get('missing'), null);
        const names = (await os.list()).map((i) => i.name).sort();
        assert.ok(names.includes('big.bin') && names.includes('doc.txt') && names.includes('meta.json'), names.join(','));
      });

      it('obj - delete: info says deleted, get is null, the chunks are purged, list skips it', async () => {
        const info = await os.putBlob({ name: 'temp' }, randomBytes(300 * 1024));
        const purged = await os.delete('temp');
        assert.equal(purged.success, true);
        assert.equal(purged.purged, info.chunks);
        const after = await os.info('temp');
        assert.equal(after?.deleted, true);
        assert.equal(after?.size, 0);
        assert.equal(await os.get('temp'), null);
        assert.ok(!(await os.list()).some((i) => i.name === 'temp'));
      });

      it('obj - update renames an object and changes its description', async () => {
        await os.putBlob({ name: 'old-name' }, Buffer.from('payload'));
        await os.update('old-name', { name: 'new-name', description: 'renamed' });
        assert.equal(await os.info('old-name'), null);
        const renamed = await os.info('new-name');
        assert.equal(renamed?.description, 'renamed');
        assert.equal(Buffer.from((await os.getBlob('new-name')) ?? []).toString(), 'payload');
      });
    });

    it('obj - links: to an object (get follows it, across buckets) and to a bucket', async () => {
      const source = await objm.create('src');
      const links = await objm.create('links');
      const target = await source.putBlob({ name: 'target.txt' }, Buffer.from('linked content'));
      const link = await links.link('to-target', target);
      assert.deepEqual(link.options?.link, { bucket: 'src', name: 'target.txt' });
      assert.equal(Buffer.from((await links.getBlob('to-target')) ?? []).toString(), 'linked content');
      const bucketLink = await links.linkStore('to-src', source);
      assert.deepEqual(bucketLink.options?.link, { bucket: 'src' });
      await assert.rejects(links.get('to-src'), /link is a bucket/);
      await assert.rejects(links.link('to-target', target), /already exists/);
    });

    it('obj - watch: existing objects with history, then puts and deletes', async () => {
      const os = await objm.create('watched');
      await os.putBlob({ name: 'a' }, Buffer.from('1'));
      await os.putBlob({ name: 'b' }, Buffer.from('2'));
      const iter = await os.watch({ includeHistory: true });
      const seen: ObjectWatchInfo[] = [];
      const done = (async () => {
        const timer = setTimeout(() => iter.stop(), 5000);
        for await (const info of iter) {
          seen.push(info);
          if (seen.length === 4) break;
        }
        clearTimeout(timer);
        iter.stop();
      })();
      await os.putBlob({ name: 'c' }, Buffer.from('3'));
      await os.delete('a');
      await done;
      assert.deepEqual(
        seen.map((i) => `${i.name}${i.deleted ? ' deleted' : ''}`),
        ['a', 'b', 'c', 'a deleted'],
      );
      assert.equal(seen[0].isUpdate, false);
      assert.equal(seen[3].isUpdate, true);
      // updates only: nothing already stored
      const updates = await os.watch();
      const next = (async () => {
        const timer = setTimeout(() => updates.stop(), 5000);
        for await (const info of updates) {
          clearTimeout(timer);
          updates.stop();
          return info;
        }
        return null;
      })();
      await os.putBlob({ name: 'd' }, Buffer.from('4'));
      assert.equal((await next)?.name, 'd');
    });

    it('obj - seal makes the bucket read-only; destroy removes it', async () => {
      const os = await objm.create('sealed');
      await os.putBlob({ name: 'kept' }, Buffer.from('k'));
      const status = await os.seal();
      assert.equal(status.sealed, true);
      await assert.rejects(os.putBlob({ name: 'more' }, Buffer.from('x')));
      assert.equal(Buffer.from((await os.getBlob('kept')) ?? []).toString(), 'k');
      assert.equal(await os.destroy(), true);
      await assert.rejects(jsm.streams.info('OBJ_sealed'), /stream not found/);
    });
  });
}
