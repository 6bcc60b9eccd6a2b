// HTTP gateway: object store with streamed upload and download, embedded and
// against nats-server -js. Streaming is checked, not assumed: chunks are stored
// while the upload body is still open, and a paused download reader holds the
// gateway to a few chunk reads.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { BrokerSubscription } from '../../core/broker/broker.ts';
import { curl, httpJetStreamTargets, type HttpFixture } from './http-fixture.ts';

const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');

for (const target of httpJetStreamTargets()) {
  describe(`http objects (${target.name})`, { peers: target.peers }, () => {
    let f: HttpFixture;
    let dir: string;
    const url = (name: string): string => `${f.base}/v1/objects/files/${encodeURIComponent(name)}`;
    before(async () => {
      f = await target.start();
      dir = mkdtempSync(join(tmpdir(), 'sb-http-obj-'));
      const res = await fetch(`${f.base}/v1/objects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bucket: 'files', storage: 'memory' }) });
      assert.equal(res.status, 201, await res.clone().text());
    });
    after(async () => {
      await f.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('http objects - upload streams: chunks are stored while the body is still open', async () => {
      const part1 = randomBytes(1024 * 1024);
      const part2 = randomBytes(3 * 1024 * 1024 + 17);
      let push!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
      const upload = fetch(url('big.bin'), { method: 'PUT', headers: { 'content-type': 'application/x-test' }, body, duplex: 'half' } as RequestInit);
      push.enqueue(part1);
      // poll the stream state over HTTP while the upload is still open
      let stored = 0;
      for (let i = 0; i < 200 && stored === 0; i++) {
        stored = (await (await fetch(`${f.base}/v1/streams/OBJ_files`)).json()).state.messages;
        if (stored === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(stored > 0, 'no chunk stored before the upload finished: the body was buffered');
      push.enqueue(part2);
      push.close();
      const res = await upload;
      assert.equal(res.status, 201);
      const info = await res.json();
      const whole = Buffer.concat([part1, part2]);
      assert.equal(info.size, whole.length);
      assert.equal(info.digest, `SHA-256=${sha(whole)}`);
      assert.equal(info.chunks, Math.ceil(whole.length / info.options.max_chunk_size));

      const download = await fetch(url('big.bin'));
      assert.equal(download.status, 200);
      assert.equal(download.headers.get('content-type'), 'application/x-test');
      assert.equal(download.headers.get('content-length'), String(whole.length));
      assert.equal(download.headers.get('x-object-digest'), info.digest);
      assert.equal(sha(new Uint8Array(await download.arrayBuffer())), sha(whole));
    });

    it('http objects - download streams: a paused reader holds the gateway to a few chunk reads', async () => {
      // Larger than the loopback socket buffers (a few MiB each way), so the bound shows.
      const data = randomBytes(40 * 1024 * 1024);
      const put = await fetch(url('paced.bin'), { method: 'PUT', body: data });
      const { chunks } = await put.json();
      let reads = 0;
      const spy: BrokerSubscription = await f.broker.subscribe('$JS.API.STREAM.MSG.GET.OBJ_files', () => reads++);
      await f.broker.flush();
      const port = Number(new URL(f.base).port);
      const received: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/objects/files/paced.bin' }, (res) => {
          res.once('data', (chunk: Buffer) => {
            received.push(chunk);
            res.pause();
            setTimeout(() => {
              const whilePaused = reads;
              try {
                assert.ok(whilePaused < chunks / 2, `${whilePaused} of ${chunks} chunks read while the reader was paused`);
              } catch (error) {
                reject(error);
                return;
              }
              res.on('data', (c: Buffer) => received.push(c));
              res.on('end', () => resolve());
              res.resume();
            }, 300);
          });
        });
        req.on('error', reject);
        req.end();
      });
      spy.unsubscribe();
      assert.equal(sha(Buffer.concat(received)), sha(data));
    });

    it('http objects - curl -T uploads a file and curl -o downloads it unchanged', { peers: ['curl'] }, async () => {
      const source = join(dir, 'in.bin');
      const target = join(dir, 'out.bin');
      writeFileSync(source, randomBytes(700_000));
      const up = await curl(['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', source, url('curl file.bin')]);
      assert.equal(up.stdout.toString(), '201', up.stderr);
      const down = await curl(['-sS', '-o', target, '-w', '%{http_code}', url('curl file.bin')]);
      assert.equal(down.stdout.toString(), '200', down.stderr);
      assert.equal(sha(readFileSync(target)), sha(readFileSync(source)));
    });

    it('http objects - list, info, replace, delete, and 404s', async () => {
      await fetch(url('a.txt'), { method: 'PUT', body: 'first' });
      await fetch(url('a.txt'), { method: 'PUT', body: 'second version' });
      assert.equal(await (await fetch(url('a.txt'))).text(), 'second version');
      const info = await (await fetch(`${url('a.txt')}/info`)).json();
      assert.equal(info.size, 14);
      const list = (await (await fetch(`${f.base}/v1/objects/files`)).json()).objects.map((o: { name: string }) => o.name);
      assert.ok(list.includes('a.txt'), JSON.stringify(list));
      assert.equal((await fetch(url('a.txt'), { method: 'DELETE' })).status, 204);
      assert.equal((await fetch(url('a.txt'))).status, 404);
      assert.equal((await fetch(url('a.txt'), { method: 'DELETE' })).status, 404);
      const after = (await (await fetch(`${f.base}/v1/objects/files`)).json()).objects.map((o: { name: string }) => o.name);
      assert.ok(!after.includes('a.txt'));
      assert.equal((await fetch(`${f.base}/v1/objects/nobucket/x`, { method: 'PUT', body: 'x' })).status, 404);
    });
  });
}
