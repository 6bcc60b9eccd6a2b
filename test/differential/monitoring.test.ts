// Monitoring endpoints compared with Debian's nats-server (started with -m):
// the same client activity on both, then field names and JSON types of
// /varz, /connz (subs=1, subs=detail), /subsz (subs=1, test=) and /healthz must
// agree, and so must the 400 texts for bad queries. Paging, sorting, the test
// filter and /metrics figures are checked on Switchboard.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { after, before, describe, it } from 'node:test';
import type { NatsServer } from '../../core/server/nats-server.ts';
import { getJson, shape, startMonitoredSwitchboard, type MonitoredServer } from '../helpers/monitoring.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { peerPath, testHasPeer } from '../helpers/peers.ts';
import { freePort, PROJECT_ROOT, startNatsServer, stopChild, waitForOutput } from '../helpers/servers.ts';

const PATHS = ['/varz', '/connz?subs=1', '/connz?subs=detail', '/subsz', '/subsz?subs=1&test=foo', '/healthz'] as const;
/** nats-server fields with no Switchboard counterpart (accounts are not implemented). */
const NATS_ONLY = new Set(['system_account']);
const OPAQUE = new Set(['http_req_stats']);

async function activity(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send('CONNECT {"verbose":false,"pedantic":false,"name":"probe","lang":"node","version":"1.0"}\r\n');
  await c.roundTrip('SUB foo 1\r\nSUB bar q 2\r\nPUB foo 2\r\nhi\r\n');
  await c.readUntil('hi\r\n').catch(() => '');
  return c;
}

async function collect(server: MonitoredServer): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const path of PATHS) {
    const r = await getJson(server.monitorPort, path);
    assert.equal(r.status, 200, path);
    assert.match(r.contentType ?? '', /^application\/json/, path);
    out.set(path, r.body);
  }
  return out;
}

function stripNatsOnly(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNatsOnly);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !NATS_ONLY.has(k)).map(([k, v]) => [k, stripNatsOnly(v)]));
}

describe('monitoring', () => {
  let sb: MonitoredServer & { server: NatsServer };
  let sbClient: RawClient;
  let ours: Map<string, unknown>;
  let ns: MonitoredServer | null = null;
  let nsClient: RawClient | null = null;
  let theirs: Map<string, unknown> | null = null;

  before(async () => {
    sb = await startMonitoredSwitchboard();
    sbClient = await activity(sb.port);
    ours = await collect(sb);
    // Without nats-server the comparisons below skip, or fail under CI (testHasPeer).
    if (peerPath('nats-server') !== null) {
      const monitorPort = await freePort();
      const started = await startNatsServer(['-m', String(monitorPort)]);
      ns = { ...started, monitorPort };
      nsClient = await activity(ns.port);
      theirs = await collect(ns);
    }
  });
  after(async () => {
    sbClient.close();
    nsClient?.close();
    await sb.stop();
    await ns?.stop();
  });

  for (const path of PATHS) {
    it(`monitoring - ${path} has nats-server's field names and JSON types`, (t) => {
      if (!testHasPeer(t, 'nats-server')) return;
      assert.ok(theirs !== null, 'nats-server was started by the before hook');
      assert.deepEqual(shape(ours.get(path), OPAQUE), shape(stripNatsOnly(theirs.get(path)), OPAQUE));
    });
  }

  for (const path of ['/connz?sort=bogus', '/connz?sort=stop', '/connz?state=bogus', '/subsz?test=foo.*', '/nope']) {
    it(`monitoring - ${path} answers with nats-server's status and text`, async (t) => {
      const mine = await getJson(sb.monitorPort, path);
      if (!testHasPeer(t, 'nats-server')) return;
      assert.ok(ns !== null, 'nats-server was started by the before hook');
      const ref = await getJson(ns.monitorPort, path);
      assert.equal(mine.status, ref.status);
      assert.equal(mine.text.trim(), ref.text.trim());
    });
  }

  it('monitoring - varz counts the connection, subscriptions and messages', () => {
    const v = ours.get('/varz') as Record<string, number>;
    assert.equal(v.connections, 1);
    assert.equal(v.total_connections, 1);
    assert.equal(v.subscriptions, 2);
    assert.equal(v.in_msgs, 1);
    assert.equal(v.out_msgs, 1);
    assert.equal(v.in_bytes, 2);
    assert.equal(v.out_bytes, 2);
    assert.equal(v.http_port, sb.monitorPort);
    assert.equal(v.port, sb.port);
  });

  it('monitoring - connz reports the client as it identified itself', () => {
    const c = (ours.get('/connz?subs=detail') as { connections: Array<Record<string, unknown>> }).connections[0];
    assert.equal(c.name, 'probe');
    assert.equal(c.lang, 'node');
    assert.equal(c.version, '1.0');
    assert.equal(c.ip, '127.0.0.1');
    assert.equal(c.subscriptions, 2);
    assert.deepEqual(c.subscriptions_list_detail, [
      { subject: 'foo', sid: '1', msgs: 1, cid: c.cid },
      { subject: 'bar', qgroup: 'q', sid: '2', msgs: 0, cid: c.cid },
    ]);
  });

  it('monitoring - connz pages with offset and limit and sorts', async () => {
    const extra = [await RawClient.connect(sb.port), await RawClient.connect(sb.port)];
    try {
      await extra[1].roundTrip('CONNECT {"verbose":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\n');
      const page = (await getJson(sb.monitorPort, '/connz?offset=1&limit=1')).body as { total: number; num_connections: number; offset: number; limit: number; connections: Array<{ cid: number }> };
      assert.equal(page.total, 3);
      assert.equal(page.num_connections, 1);
      assert.equal(page.offset, 1);
      assert.equal(page.limit, 1);
      const all = (await getJson(sb.monitorPort, '/connz')).body as { connections: Array<{ cid: number }> };
      assert.deepEqual(page.connections.map((c) => c.cid), [all.connections[1].cid]);
      const bySubs = (await getJson(sb.monitorPort, '/connz?sort=subs')).body as { connections: Array<{ subscriptions: number }> };
      assert.deepEqual(bySubs.connections.map((c) => c.subscriptions), [3, 2, 0]);
      const one = (await getJson(sb.monitorPort, `/connz?cid=${all.connections[0].cid}`)).body as { connections: Array<{ cid: number }> };
      assert.deepEqual(one.connections.map((c) => c.cid), [all.connections[0].cid]);
    } finally {
      for (const c of extra) c.close();
    }
  });

  it('monitoring - subsz test=<subject> lists only the subscriptions it would reach', () => {
    const s = ours.get('/subsz?subs=1&test=foo') as { total: number; subscriptions_list: Array<{ subject: string }> };
    assert.equal(s.total, 1);
    assert.deepEqual(s.subscriptions_list.map((x) => x.subject), ['foo']);
  });

  it('monitoring - healthz answers {"status":"ok"}', () => {
    assert.deepEqual(ours.get('/healthz'), { status: 'ok' });
  });

  it('monitoring - /metrics carries the varz figures in Prometheus text format', async () => {
    // Let the previous test's clients finish closing, so both reads see the same figures.
    for (let i = 0; i < 50 && sb.server.clients.size !== 1; i++) await new Promise((r) => setTimeout(r, 20));
    const response = await fetch(`http://127.0.0.1:${sb.monitorPort}/metrics`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const varz = (await getJson(sb.monitorPort, '/varz')).body as Record<string, number>;
    const value = (name: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
      assert.ok(line, `${name} missing`);
      return Number(line.split(' ').at(-1));
    };
    assert.match(text, /^# HELP gnatsd_varz_connections /m);
    assert.match(text, /^# TYPE gnatsd_varz_in_msgs counter$/m);
    for (const field of ['connections', 'total_connections', 'subscriptions', 'in_msgs', 'out_msgs', 'in_bytes', 'out_bytes', 'slow_consumers']) {
      assert.equal(value(`gnatsd_varz_${field}`), varz[field], field);
    }
    assert.equal(value('switchboard_auth_failures_total'), 0);
  });
});

describe('monitoring closed connections', () => {
  let sb: MonitoredServer;
  let ns: MonitoredServer | null = null;
  before(async () => {
    sb = await startMonitoredSwitchboard();
    if (peerPath('nats-server') !== null) {
      const monitorPort = await freePort();
      ns = { ...(await startNatsServer(['-m', String(monitorPort)])), monitorPort };
    }
  });
  after(async () => {
    await sb.stop();
    await ns?.stop();
  });

  /** Connect, subscribe, disconnect; then wait (bounded) until connz lists it as closed. */
  async function closedConnz(server: MonitoredServer): Promise<{ connections: Array<Record<string, unknown>> }> {
    const c = await RawClient.connect(server.port);
    await c.roundTrip('CONNECT {"verbose":false,"name":"gone"}\r\nSUB foo 1\r\n');
    c.close();
    for (let i = 0; i < 100; i++) {
      const body = (await getJson(server.monitorPort, '/connz?state=closed&sort=stop')).body as { connections: Array<Record<string, unknown>> };
      if (body.connections.length > 0) return body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('the closed connection never appeared');
  }

  it('monitoring - connz state=closed lists closed connections with stop and reason, as nats-server', async (t) => {
    const ours = await closedConnz(sb);
    const c = ours.connections[0];
    assert.equal(c.name, 'gone');
    assert.equal(c.reason, 'Client Closed');
    assert.equal(typeof c.stop, 'string');
    const open = (await getJson(sb.monitorPort, '/connz')).body as { total: number };
    assert.equal(open.total, 0);
    const any = (await getJson(sb.monitorPort, '/connz?state=any')).body as { total: number };
    assert.equal(any.total, 1);
    if (!testHasPeer(t, 'nats-server')) return;
    assert.ok(ns !== null, 'nats-server was started by the before hook');
    const theirs = await closedConnz(ns);
    assert.deepEqual(shape(ours), shape(theirs));
  });
});

describe('monitoring /jsz', () => {
  const running: Array<{ stop(): Promise<void> }> = [];
  const dirs: string[] = [];
  after(async () => {
    for (const r of running) await r.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** One stream holding one message, then /jsz. */
  async function jszAfterOneMessage(natsPort: number, monitorPort: number): Promise<Record<string, unknown>> {
    const nc = await connect({ servers: `127.0.0.1:${natsPort}`, reconnect: false });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'JSZ', subjects: ['jsz.>'] });
      await jetstream(nc).publish('jsz.one', 'x');
    } finally {
      await nc.close();
    }
    return (await getJson(monitorPort, '/jsz')).body as Record<string, unknown>;
  }

  it('monitoring - /jsz reports JetStream with nats-server\'s field names and types', async (t) => {
    const storeDir = mkdtempSync(join(tmpdir(), 'switchboard-jsz-'));
    dirs.push(storeDir);
    const port = await freePort();
    const monitorPort = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateways/main.ts', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-js', '-sd', storeDir, '--no_gateways'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push({ stop: () => stopChild(child) });
    await waitForOutput(child, 'monitoring listening');
    const ours = await jszAfterOneMessage(port, monitorPort);
    assert.equal(ours.streams, 1);
    assert.equal(ours.messages, 1);
    assert.deepEqual(ours.api && typeof ours.api, 'object');
    if (!testHasPeer(t, 'nats-server')) return;
    const nsDir = mkdtempSync(join(tmpdir(), 'switchboard-jsz-ns-'));
    dirs.push(nsDir);
    const nsMonitor = await freePort();
    const ns = await startNatsServer(['-m', String(nsMonitor), '-js', '-sd', nsDir]);
    running.push(ns);
    const theirs = await jszAfterOneMessage(ns.port, nsMonitor);
    assert.deepEqual(shape(ours), shape(theirs));
  });
});
