// HTTP gateway throughput: publish requests/s with keep-alive, KV put/get
// requests/s, and SSE fan-out deliveries/s; and, at 100k keys, the time to list a
// bucket's keys and to receive a watch's initial=1 snapshot. The server (Switchboard core with
// JetStream, EmbeddedBroker, HTTP gateway) runs in a child process; the load
// comes from autocannon in this process, so generator and server each get a core.
// A section of `npm run bench`; alone:
//
//   npm run bench:http -- [--quick] [--connections N] [--only baseline,publish,publish-batch,kv-put,kv-get,sse-fanout,kv-list-100k]
//
// `baseline` is bare fastify answering the same POST without a broker: the
// ceiling for any fastify app on this machine, to read the other figures against.
//
// Every run is bounded in time (autocannon's duration; its `amount` would override
// it, so only the warm-up uses a count). Scenario functions are
// exported so the bench runner can import them.

import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, Agent } from 'node:http';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';
import { track } from './child-registry.ts';

export interface HttpFigure {
  scenario: string;
  value: number;
  unit: string;
  details: Record<string, number>;
}

// ---- server (child process) ----

async function serve(baseline: boolean): Promise<void> {
  if (baseline) {
    // The ceiling on this machine: bare fastify answering 202 without touching a broker.
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    app.post('/v1/subjects/:subject', async (_request, reply) => reply.code(202).send({ subject: 'x', size: 16 }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    process.stdout.write(`READY ${(app.server.address() as { port: number }).port}\n`);
    process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
    return;
  }
  const { startSwitchboardJetStream } = await import('../helpers/jetstream.ts');
  const { OpenAuthorizer } = await import('../../core/auth/authorizer.ts');
  const { createHttpGateway } = await import('../../gateways/http/http-gateway.ts');
  const core = await startSwitchboardJetStream();
  const broker = core.broker;
  const gateway = createHttpGateway({ broker, authorizer: new OpenAuthorizer(), host: '127.0.0.1', port: 0, heartbeatMs: 0, maxPendingBytes: 64 * 1024 * 1024 });
  await gateway.start();
  process.stdout.write(`READY ${gateway.port}\n`);
  process.once('SIGTERM', () => void gateway.stop().then(() => broker.close()).then(() => core.stop()).then(() => process.exit(0)));
}

export async function startHttpBenchServer(baseline = false): Promise<{ base: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/http-bench.ts', '--serve', ...(baseline ? ['--baseline'] : [])], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  const output = await waitForOutput(child, /READY \d+/);
  const port = Number(/READY (\d+)/.exec(output)?.[1]);
  return { base: `http://127.0.0.1:${port}`, child, stop: () => stopChild(child) };
}

// ---- load ----

async function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

function figure(scenario: string, result: autocannon.Result): HttpFigure {
  const seconds = result.duration;
  const ok = result.requests.total - result.non2xx - result.errors;
  return {
    scenario,
    value: Math.round(ok / seconds),
    unit: 'requests/s',
    details: { requests: result.requests.total, non2xx: result.non2xx, errors: result.errors, seconds, p50Ms: result.latency.p50, p99Ms: result.latency.p99 },
  };
}

export interface HttpBenchPlan {
  connections: number;
  /** Warm-up requests before each measured run. */
  warmup: number;
  capSeconds: number;
}

export async function benchPublish(base: string, plan: HttpBenchPlan): Promise<HttpFigure> {
  const body = 'x'.repeat(16);
  await cannon({ url: `${base}/v1/subjects/bench.http`, method: 'POST', body, connections: plan.connections, amount: plan.warmup }); // warm-up
  const result = await cannon({ url: `${base}/v1/subjects/bench.http`, method: 'POST', body, connections: plan.connections, duration: plan.capSeconds });
  return figure('publish 16 B (202)', result);
}

/** Messages per request in the batch scenario. */
const BATCH_LINES = 100;

/** POST /v1/messages with 100 NDJSON lines of 16 B each: messages/s through the batch route. */
export async function benchPublishBatch(base: string, plan: HttpBenchPlan): Promise<HttpFigure> {
  const body = Array.from({ length: BATCH_LINES }, () => JSON.stringify({ subject: 'bench.http', data: 'x'.repeat(16) })).join('\n');
  const options = { url: `${base}/v1/messages`, method: 'POST' as const, headers: { 'content-type': 'application/x-ndjson' }, body, connections: plan.connections };
  await cannon({ ...options, amount: Math.ceil(plan.warmup / 10) }); // warm-up
  const result = await cannon({ ...options, duration: plan.capSeconds });
  const requests = figure('publish batch', result);
  return { scenario: `publish batch (${BATCH_LINES} × 16 B per request)`, value: requests.value * BATCH_LINES, unit: 'messages/s', details: { ...requests.details, requestsPerSecond: requests.value } };
}

async function call(base: string, method: string, path: string, body?: string): Promise<number> {
  const res = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

export async function benchKvPut(base: string, plan: HttpBenchPlan): Promise<HttpFigure> {
  await call(base, 'POST', '/v1/buckets', JSON.stringify({ bucket: 'bench', storage: 'memory' }));
  const result = await cannon({ url: `${base}/v1/kv/bench/key`, method: 'PUT', body: 'v'.repeat(16), connections: plan.connections, duration: plan.capSeconds });
  return figure('kv put 16 B', result);
}

export async function benchKvGet(base: string, plan: HttpBenchPlan): Promise<HttpFigure> {
  await call(base, 'POST', '/v1/buckets', JSON.stringify({ bucket: 'bench', storage: 'memory' }));
  await fetch(`${base}/v1/kv/bench/key`, { method: 'PUT', body: 'v'.repeat(16) });
  const result = await cannon({ url: `${base}/v1/kv/bench/key`, method: 'GET', connections: plan.connections, duration: plan.capSeconds });
  return figure('kv get', result);
}

/** Keys in the big-bucket scenario (--quick: 20k). */
const BIG_BUCKET_KEYS = 100_000;

/** Fill bucket `big` with `count` 16 B values through the batch route (10,000 lines a request). */
async function fillBigBucket(base: string, count: number): Promise<void> {
  await call(base, 'POST', '/v1/buckets', JSON.stringify({ bucket: 'big', storage: 'memory' }));
  for (let i = 0; i < count; i += 10_000) {
    const lines = Array.from({ length: Math.min(10_000, count - i) }, (_, j) => JSON.stringify({ subject: `$KV.big.k${i + j}`, data: 'v'.repeat(16) }));
    const res = await fetch(`${base}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines.join('\n') });
    const answer = (await res.json()) as { failed: number };
    if (res.status !== 200 || answer.failed > 0) throw new Error(`loading the big bucket: status ${res.status}, ${answer.failed} failed`);
  }
}

/** Milliseconds to read the events of `path` until `count` `event: msg` frames arrived. */
async function readEvents(base: string, path: string, count: number, capMs: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(capMs) });
  if (res.body === null) throw new Error(`${path}: no body`);
  const marker = 'event: msg';
  let seen = 0;
  let carry = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    const text = carry + decoder.decode(chunk as Uint8Array, { stream: true });
    for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) seen++;
    carry = text.slice(-marker.length + 1);
    if (seen >= count) break;
  }
  const ms = performance.now() - t0;
  await res.body.cancel().catch(() => {});
  if (seen < count) throw new Error(`${path}: ${seen} of ${count} events`);
  return ms;
}

/**
 * A bucket of 100k keys: the first page of GET /keys (1,000 keys), every key
 * paged through 10,000 at a time, and a watch with initial=1 until all its
 * snapshot events are read. Reported in ms (lower is better), the full listing as
 * the figure.
 */
export async function benchKvBigBucket(base: string, count: number, capMs: number): Promise<HttpFigure> {
  await fillBigBucket(base, count);
  const t0 = performance.now();
  const first = (await (await fetch(`${base}/v1/buckets/big/keys`)).json()) as { keys: string[] };
  const firstPageMs = performance.now() - t0;
  if (first.keys.length !== 1000) throw new Error(`first page has ${first.keys.length} keys`);
  const t1 = performance.now();
  let listed = 0;
  let after: string | undefined;
  for (let more = true; more && performance.now() - t1 < capMs; ) {
    const query = new URLSearchParams({ limit: '10000', ...(after === undefined ? {} : { after }) });
    const page = (await (await fetch(`${base}/v1/buckets/big/keys?${query}`)).json()) as { keys: string[]; more: boolean };
    listed += page.keys.length;
    after = page.keys.at(-1);
    more = page.more;
  }
  const listAllMs = performance.now() - t1;
  if (listed !== count) throw new Error(`listed ${listed} of ${count} keys within ${capMs} ms`);
  const snapshotMs = await readEvents(base, '/v1/buckets/big/watch?initial=1', count, capMs);
  return {
    scenario: `kv ${count / 1000}k keys: list all`,
    value: Math.round(listAllMs),
    unit: 'ms',
    details: { keys: count, firstPageMs: Math.round(firstPageMs), listAllMs: Math.round(listAllMs), pages: Math.ceil(count / 10_000), snapshotMs: Math.round(snapshotMs) },
  };
}

/** `subscribers` SSE readers on one subject; `messages` publishes; deliveries/s until all arrive (or the cap). */
export async function benchSseFanOut(base: string, subscribers: number, messages: number, capMs: number): Promise<HttpFigure> {
  const agent = new Agent({ keepAlive: true, maxSockets: subscribers + 8 });
  const marker = Buffer.from('event: msg');
  let delivered = 0;
  const requests: Array<ReturnType<typeof httpRequest>> = [];
  await Promise.all(
    Array.from({ length: subscribers }, () =>
      new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${base}/v1/subjects/bench.fan`, { agent }, (res) => {
          let first = true;
          res.on('data', (chunk: Buffer) => {
            if (first) {
              first = false;
              resolve();
            }
            for (let i = chunk.indexOf(marker); i >= 0; i = chunk.indexOf(marker, i + 1)) delivered++;
          });
        });
        req.on('error', reject);
        req.end();
        requests.push(req);
      }),
    ),
  );
  const started = Date.now();
  const expected = subscribers * messages;
  for (let i = 0; i < messages && Date.now() - started < capMs; i++) {
    await call(base, 'POST', '/v1/subjects/bench.fan', `m${i}`);
    // keep the readers within reach: never more than a few messages ahead of the slowest
    while (delivered < (i - 8) * subscribers && Date.now() - started < capMs) await new Promise((r) => setTimeout(r, 1));
  }
  while (delivered < expected && Date.now() - started < capMs) await new Promise((r) => setTimeout(r, 5));
  const seconds = (Date.now() - started) / 1000;
  for (const req of requests) req.destroy();
  agent.destroy();
  return { scenario: `SSE fan-out to ${subscribers}`, value: Math.round(delivered / seconds), unit: 'deliveries/s', details: { subscribers, messages, delivered, expected, seconds } };
}

// ---- command line ----

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { serve: { type: 'boolean' }, baseline: { type: 'boolean' }, quick: { type: 'boolean' }, connections: { type: 'string' }, only: { type: 'string' } },
    strict: true,
  });
  if (values.serve) return serve(values.baseline === true);
  const quick = values.quick === true;
  const plan: HttpBenchPlan = { connections: Number(values.connections ?? 64), warmup: quick ? 2_000 : 5_000, capSeconds: quick ? 5 : 15 };
  const only = values.only?.split(',') ?? ['baseline', 'publish', 'publish-batch', 'kv-put', 'kv-get', 'sse-fanout', 'kv-list-100k'];
  const figures: HttpFigure[] = [];
  for (const name of only) {
    const server = await startHttpBenchServer(name === 'baseline');
    try {
      if (name === 'baseline') figures.push({ ...(await benchPublish(server.base, plan)), scenario: 'bare fastify 202 (ceiling)' });
      else if (name === 'publish') figures.push(await benchPublish(server.base, plan));
      else if (name === 'publish-batch') figures.push(await benchPublishBatch(server.base, plan));
      else if (name === 'kv-put') figures.push(await benchKvPut(server.base, plan));
      else if (name === 'kv-get') figures.push(await benchKvGet(server.base, plan));
      else if (name === 'sse-fanout') figures.push(await benchSseFanOut(server.base, 1000, quick ? 100 : 500, quick ? 10_000 : 30_000));
      else if (name === 'kv-list-100k') figures.push(await benchKvBigBucket(server.base, quick ? 20_000 : BIG_BUCKET_KEYS, 300_000));
      else throw new Error(`unknown scenario ${name}`);
      const last = figures[figures.length - 1];
      process.stdout.write(`${last.scenario.padEnd(24)} ${String(last.value).padStart(9)} ${last.unit}  ${JSON.stringify(last.details)}\n`);
    } finally {
      await server.stop();
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:http: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
