// HTTP gateway: key-value buckets over the JetStream API, embedded and against
// nats-server -js. ETag = revision, If-Match compare-and-set (412), If-None-Match
// create-only, delete/purge markers, history, key listing, watch as SSE, curl.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { curl, httpJetStreamTargets, StreamReader, type HttpClusterCapableFixture, type HttpFixture } from './http-fixture.ts';

for (const target of httpJetStreamTargets({ cluster: true })) {
  describe(`http kv (${target.name})`, { peers: target.peers }, () => {
    let f: HttpClusterCapableFixture;
    const url = (key: string, bucket = 'cfg'): string => `${f.base}/v1/kv/${bucket}/${encodeURIComponent(key)}`;
    const put = (key: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> => fetch(url(key), { method: 'PUT', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
    before(async () => {
      f = await target.start();
      const res = await fetch(`${f.base}/v1/buckets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ bucket: 'cfg', history: 5, storage: 'memory' }),
      });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal((await res.json()).history, 5);
    });
    after(async () => f.stop());

    it('http kv - put then get: body as stored, ETag and X-Kv headers carry the revision', async () => {
      const written = await put('color', 'blue', { 'content-type': 'text/plain' });
      assert.equal(written.status, 200);
      const { revision } = await written.json();
      assert.equal(written.headers.get('etag'), `"${revision}"`);
      const read = await fetch(url('color'));
      assert.equal(read.status, 200);
      assert.equal(await read.text(), 'blue');
      assert.equal(read.headers.get('etag'), `"${revision}"`);
      assert.equal(read.headers.get('x-kv-revision'), String(revision));
      assert.equal(read.headers.get('x-kv-operation'), 'PUT');
      const binary = Buffer.from([0, 255, 1, 254]);
      await put('blob', binary);
      assert.deepEqual(Buffer.from(await (await fetch(url('blob'))).arrayBuffer()), binary);
      const missing = await fetch(url('nope'));
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).code, 'key_not_found');
      const unchanged = await fetch(url('color'), { headers: { 'if-none-match': `"${revision}"` } });
      assert.equal(unchanged.status, 304);
    });

    it('http kv - If-Match compare-and-set: the right revision wins, a stale one is 412', async () => {
      const r1 = (await (await put('counter', '1')).json()).revision;
      const ok = await put('counter', '2', { 'if-match': `"${r1}"` });
      assert.equal(ok.status, 200);
      const r2 = (await ok.json()).revision;
      const stale = await put('counter', '3', { 'if-match': `"${r1}"` });
      assert.equal(stale.status, 412);
      const problem = await stale.json();
      assert.equal(problem.code, 'precondition_failed');
      assert.equal(await (await fetch(url('counter'))).text(), '2');
      assert.equal((await fetch(url('counter'), { method: 'DELETE', headers: { 'if-match': `"${r1}"` } })).status, 412);
      assert.equal((await fetch(url('counter'), { method: 'DELETE', headers: { 'if-match': `"${r2}"` } })).status, 204);
    });

    it('http kv - If-None-Match: * creates only; a deleted key can be created again', async () => {
      const created = await put('once', 'a', { 'if-none-match': '*' });
      assert.equal(created.status, 201);
      const again = await put('once', 'b', { 'if-none-match': '*' });
      assert.equal(again.status, 412);
      assert.equal((await fetch(url('once'), { method: 'DELETE' })).status, 204);
      assert.equal((await fetch(url('once'))).status, 404);
      assert.equal((await put('once', 'c', { 'if-none-match': '*' })).status, 201);
      assert.equal(await (await fetch(url('once'))).text(), 'c');
    });

    it('http kv - history lists revisions with delete markers; purge drops the history', async () => {
      await put('h', 'v1');
      await put('h', 'v2');
      await fetch(url('h'), { method: 'DELETE' });
      const history = (await (await fetch(`${url('h')}/history`)).json()).entries;
      assert.deepEqual(history.map((e: { operation: string; data?: string }) => [e.operation, e.data]), [['PUT', 'v1'], ['PUT', 'v2'], ['DEL', undefined]]);
      const old = await fetch(`${url('h')}?revision=${history[0].revision}`);
      assert.equal(await old.text(), 'v1');
      assert.equal((await fetch(`${url('h')}?purge=1`, { method: 'DELETE' })).status, 204);
      const purged = (await (await fetch(`${url('h')}/history`)).json()).entries;
      assert.deepEqual(purged.map((e: { operation: string }) => e.operation), ['PURGE']);
    });

    it('http kv - keys: filter, paging, deleted keys left out, unusual keys encoded and listed decoded', async () => {
      for (const key of ['user.1', 'user.2', 'user.3', 'user.gone', 'other']) await put(key, 'x');
      await fetch(url('user.gone'), { method: 'DELETE' });
      const odd = 'hello world/ünïcode';
      assert.equal((await put(odd, 'odd')).status, 200);
      assert.equal(await (await fetch(url(odd))).text(), 'odd');
      const page1 = await (await fetch(`${f.base}/v1/buckets/cfg/keys?filter=user.*&limit=2`)).json();
      assert.deepEqual(page1, { keys: ['user.1', 'user.2'], more: true });
      const page2 = await (await fetch(`${f.base}/v1/buckets/cfg/keys?filter=user.*&limit=2&after=user.2`)).json();
      assert.deepEqual(page2, { keys: ['user.3'], more: false });
      const all = (await (await fetch(`${f.base}/v1/buckets/cfg/keys`)).json()).keys;
      assert.ok(all.includes(odd), JSON.stringify(all));
      assert.ok(!all.includes('user.gone'));
    });

    it('http kv - watch streams changes as SSE with id = revision, and resumes with Last-Event-ID', async () => {
      const reader = new StreamReader(await fetch(`${f.base}/v1/buckets/cfg/watch?key=w.*`));
      const r1 = (await (await put('w.a', 'one')).json()).revision;
      await put('unwatched', 'x');
      await fetch(url('w.a'), { method: 'DELETE' });
      const e1 = await reader.nextEvent();
      assert.equal(e1?.id, String(r1));
      assert.deepEqual({ ...JSON.parse(e1?.data ?? ''), created: 'x' }, { bucket: 'cfg', key: 'w.a', revision: r1, operation: 'PUT', created: 'x', data: 'one', size: 3 });
      const e2 = await reader.nextEvent();
      assert.equal(JSON.parse(e2?.data ?? '').operation, 'DEL');
      await reader.cancel();
      const resumed = new StreamReader(await fetch(`${f.base}/v1/buckets/cfg/watch?key=w.*`, { headers: { 'last-event-id': String(r1) } }));
      assert.equal((await resumed.nextEvent())?.id, e2?.id);
      await resumed.cancel();
    });

    it('http kv - watch with initial=1 starts with each current value, then changes, no key twice for one revision', async () => {
      await put('i.a', 'a1');
      await put('i.b', 'b1');
      await put('i.a', 'a2');
      await put('i.gone', 'g');
      await fetch(url('i.gone'), { method: 'DELETE' });
      const reader = new StreamReader(await fetch(`${f.base}/v1/buckets/cfg/watch?key=i.*&initial=1`));
      const first = [await reader.nextEvent(), await reader.nextEvent()].map((e) => JSON.parse(e?.data ?? '{}'));
      assert.deepEqual(first.map((e) => [e.key, e.data]), [['i.b', 'b1'], ['i.a', 'a2']]);
      // The snapshot ends with a marker (issue 26) naming the highest revision it covers, without an id.
      const marker = await reader.nextEvent();
      assert.equal(marker?.event, 'snapshot_end');
      assert.equal(marker?.id, undefined);
      assert.ok(JSON.parse(marker?.data ?? '{}').revision >= Math.max(...first.map((e) => e.revision)));
      await put('i.b', 'b2');
      // On a cluster the snapshot's consumer may run on a replica a moment behind, whose
      // i.gone was not deleted yet: then i.gone comes as a value and its delete follows
      // as a change (nats-server's own watchers behave alike). Nothing is lost either way.
      const rest: Array<{ key: string; data: string; operation: string }> = [];
      for (let event = await reader.nextEvent(); event !== null && rest.length < 4; event = await reader.nextEvent(300)) rest.push(JSON.parse(event.data));
      const changes = rest.map((e) => `${e.operation} ${e.key}`);
      if (target.name === 'cluster' && changes[0] === 'PUT i.gone') assert.deepEqual(changes, ['PUT i.gone', 'DEL i.gone', 'PUT i.b']);
      else assert.deepEqual(changes, ['PUT i.b']);
      assert.equal(rest.at(-1)?.data, 'b2');
      await reader.cancel();
    });

    it('http kv - curl: compare-and-set with If-Match and an ETag on read', { peers: ['curl'] }, async () => {
      const first = await curl(['-sS', '-X', 'PUT', '--data-binary', 'v1', url('curl')]);
      const rev = JSON.parse(first.stdout.toString()).revision;
      const stale = await curl(['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '-H', `If-Match: "${rev - 1}"`, '--data-binary', 'v2', url('curl')]);
      assert.equal(stale.stdout.toString(), '412');
      const ok = await curl(['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'PUT', '-H', `If-Match: "${rev}"`, '--data-binary', 'v2', url('curl')]);
      assert.equal(ok.stdout.toString(), '200');
      const read = await curl(['-sS', '-i', url('curl')]);
      assert.match(read.stdout.toString(), new RegExp(`etag: "${rev + 1}"`, 'i'));
      assert.match(read.stdout.toString(), /\r\n\r\nv2$/);
    });

    it('http kv - bucket status, bad bucket names and delete', async () => {
      const statusRes = await (await fetch(`${f.base}/v1/buckets/cfg`)).json();
      assert.equal(statusRes.bucket, 'cfg');
      assert.equal(statusRes.history, 5);
      assert.equal((await fetch(`${f.base}/v1/kv/bad.name/k`)).status, 400);
      await fetch(`${f.base}/v1/buckets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"bucket":"tmp","storage":"memory"}' });
      assert.equal((await fetch(`${f.base}/v1/buckets/tmp`, { method: 'DELETE' })).status, 204);
      assert.equal((await fetch(`${f.base}/v1/buckets/tmp`)).status, 404);
    });
  });
}

// A bucket several times the gateway's maxPendingBytes: the listing pages through
// it and the initial=1 snapshot streams it through one consumer at the reader's
// pace (flow control), so neither is cut as a slow consumer and no key is lost or
// sent twice. The reader starts late, so the socket buffers fill and the gateway
// must wait for it.
for (const target of httpJetStreamTargets()) {
  describe(`http kv big bucket (${target.name})`, { peers: target.peers }, () => {
    const KEYS = 1200;
    const VALUE = 'v'.repeat(4096);
    const MAX_PENDING = 64 * 1024;
    let f: HttpFixture;
    before(async () => {
      f = await target.start({ maxPendingBytes: MAX_PENDING });
      const created = await fetch(`${f.base}/v1/buckets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"bucket":"big","storage":"memory"}' });
      assert.equal(created.status, 201);
      for (let i = 0; i < KEYS; i += 50) {
        const puts = Array.from({ length: Math.min(50, KEYS - i) }, (_, j) => fetch(`${f.base}/v1/kv/big/k${i + j}`, { method: 'PUT', body: VALUE }));
        for (const res of await Promise.all(puts)) assert.equal(res.status, 200);
      }
      await fetch(`${f.base}/v1/kv/big/k7`, { method: 'DELETE' });
    });
    after(async () => f.stop());

    const expectedKeys = (): string[] => Array.from({ length: KEYS }, (_, i) => `k${i}`).filter((k) => k !== 'k7');

    /** Every key, paging `limit` at a time. */
    async function listAll(limit: number): Promise<string[]> {
      const listed: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 50; pages++) {
        const query = new URLSearchParams({ limit: String(limit), ...(after === undefined ? {} : { after }) });
        const res = await fetch(`${f.base}/v1/buckets/big/keys?${query}`);
        assert.equal(res.status, 200);
        const page = (await res.json()) as { keys: string[]; more: boolean };
        listed.push(...page.keys);
        after = page.keys.at(-1);
        if (!page.more) return listed;
      }
      assert.fail(`still more keys after 50 pages of ${limit}`);
    }

    it('http kv - keys of a bucket bigger than maxPendingBytes: pages in stored-key order, every live key exactly once, by consumer pass or lookups', async () => {
      // 1,201 messages: a page of 500 is listed by one consumer pass, a page of 100 by lookups (core/jetstream-client/kv/kv-keys.ts).
      assert.deepEqual(await listAll(500), expectedKeys().sort());
      assert.deepEqual(await listAll(100), expectedKeys().sort());
    });

    it('http kv - initial=1 snapshot of a bucket bigger than maxPendingBytes to a late reader: every key exactly once, then changes', async () => {
      const response = await fetch(`${f.base}/v1/buckets/big/watch?initial=1`);
      assert.equal(response.status, 200);
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the gateway run into the full socket
      const reader = new StreamReader(response);
      const seen = new Map<string, number>();
      let lastRevision = 0;
      while (seen.size < KEYS - 1) {
        const e = await reader.nextEvent();
        assert.ok(e !== null, `the snapshot stopped after ${seen.size} keys`);
        assert.equal(e.event, 'msg', e.data);
        const entry = JSON.parse(e.data) as { key: string; revision: number; data: string };
        assert.equal(seen.get(entry.key), undefined, `${entry.key} sent twice`);
        assert.ok(entry.revision > lastRevision, 'oldest revision first');
        assert.equal(entry.data, VALUE);
        seen.set(entry.key, entry.revision);
        lastRevision = entry.revision;
      }
      assert.deepEqual([...seen.keys()].sort(), expectedKeys().sort());
      assert.deepEqual([(await reader.nextEvent())?.event], ['snapshot_end']);
      assert.equal((await fetch(`${f.base}/v1/kv/big/k1`, { method: 'PUT', body: 'after' })).status, 200);
      const change = await reader.nextEvent();
      assert.deepEqual([change?.event, JSON.parse(change?.data ?? '{}').key, JSON.parse(change?.data ?? '{}').data], ['msg', 'k1', 'after']);
      assert.equal(await reader.nextEvent(300), null, 'nothing after the change');
      await reader.cancel();
      assert.equal(f.gateway.stats.slowConsumers, 0);
    });
  });
}
