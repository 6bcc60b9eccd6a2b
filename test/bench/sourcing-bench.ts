// Catch-up after an outage (issue 23): a backlog of messages waits at the origin
// and a stream sourcing it starts; figures are the seconds until every message
// is stored at the destination, and the rate. Side by side:
//   local     origin and destination in one server: Switchboard (its own process)
//             and Debian's nats-server -js
//   external  the origin on a nats-server hub, reached through `$JS.hub.API`
//             across a leafnode link with JetStream domains: a Switchboard
//             edge and a nats-server edge (each its own process); the edge
//             restarts with its leaf remote, so the timing includes the link
//             coming up and the first consumer request
// The hub is Debian's nats-server 2.9, so Switchboard asks for ack_policy
// flow_control and falls back to the older consumer, as it would with any
// origin before 2.14.
//   node --import tsx test/bench/sourcing-bench.ts [--quick] [--messages N]
// 1M messages of 128 bytes by default, 20k with --quick; each case is bounded
// in time (it reports how far it got).

import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type StreamSource } from '@nats-io/jetstream';
import { startJetStreamProcess, tempStoreDir } from '../helpers/jetstream.ts';
import { commandAvailable, freePort, startNatsServer, startNatsServerWithConfig, startSwitchboardProcess, type RunningServer } from '../helpers/servers.ts';
import { track } from './child-registry.ts';

const PAYLOAD = Buffer.alloc(128, 0x61);
const IN_FLIGHT = 1000;
const API = '$JS.hub.API';

interface Outcome {
  readonly scenario: string;
  readonly target: string;
  readonly stored: number;
  readonly seconds: number;
}

/** Publish `n` messages to `subject` with IN_FLIGHT PubAcks outstanding. */
async function fill(nc: NatsConnection, subject: string, n: number): Promise<void> {
  const js = jetstream(nc);
  for (let done = 0; done < n; ) {
    const batch = Math.min(IN_FLIGHT, n - done);
    await Promise.all(Array.from({ length: batch }, () => js.publish(subject, PAYLOAD)));
    done += batch;
  }
}

/** Seconds from now until `stream` holds `n` messages (or the cap), and how many it held. */
async function catchUp(jsm: JetStreamManager, stream: string, n: number, capMs: number): Promise<{ stored: number; seconds: number }> {
  const t0 = performance.now();
  let stored = 0;
  while (stored < n && performance.now() - t0 < capMs) {
    await new Promise((r) => setTimeout(r, 100));
    stored = (await jsm.streams.info(stream).catch(() => null))?.state.messages ?? stored;
  }
  return { stored, seconds: (performance.now() - t0) / 1000 };
}

/** Local: origin ORIG holds `n`, then SRC starts sourcing it. */
async function local(target: string, server: RunningServer, n: number, capMs: number): Promise<Outcome> {
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'ORIG', subjects: ['orig.>'] });
    await fill(nc, 'orig.x', n);
    await jsm.streams.add({ name: 'SRC', sources: [{ name: 'ORIG' }] });
    return { scenario: 'local source', target, ...(await catchUp(jsm, 'SRC', n, capMs)) };
  } finally {
    await nc.close();
  }
}

/** External: the hub's ORIG holds `n` while the destination's link is down; the link comes up, SRC catches up. */
async function external(target: string, hubUrl: string, destUrl: string, linkUp: () => Promise<() => Promise<void>>, n: number, capMs: number): Promise<Outcome> {
  const hub = await connect({ servers: hubUrl });
  const dest = await connect({ servers: destUrl });
  try {
    const hubJsm = await jetstreamManager(hub);
    const destJsm = await jetstreamManager(dest);
    await hubJsm.streams.add({ name: 'ORIG', subjects: ['orig.>'] });
    await fill(hub, 'orig.x', n);
    const source: StreamSource = { name: 'ORIG', external: { api: API, deliver: 'dlv.hub' } };
    await destJsm.streams.add({ name: 'SRC', sources: [source] });
    const linkDown = await linkUp();
    try {
      return { scenario: 'external source', target, ...(await catchUp(destJsm, 'SRC', n, capMs)) };
    } finally {
      await linkDown();
    }
  } finally {
    await hub.close();
    await dest.close();
  }
}

async function withDirs<T>(count: number, fn: (dirs: string[]) => Promise<T>): Promise<T> {
  const dirs = Array.from({ length: count }, () => tempStoreDir('sourcing-bench-'));
  try {
    return await fn(dirs);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function stopAfter<T>(server: RunningServer & { child?: ChildProcess }, fn: () => Promise<T>): Promise<T> {
  if (server.child !== undefined) track(server.child);
  try {
    return await fn();
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, messages: { type: 'string' } }, strict: true });
  const n = values.messages !== undefined ? Number(values.messages) : values.quick === true ? 20_000 : 1_000_000;
  const capMs = values.quick === true ? 60_000 : 600_000;
  const hasNats = commandAvailable('nats-server');
  const outcomes: Outcome[] = [];
  const run = async (what: string, fn: () => Promise<Outcome>): Promise<void> => {
    process.stdout.write(`  ${what} ...\n`);
    try {
      outcomes.push(await fn());
    } catch (err) {
      process.stdout.write(`  ${what} FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };

  await run('local, switchboard', () => withDirs(1, async ([dir]) => {
    const sb = await startJetStreamProcess(dir);
    return stopAfter(sb, () => local('switchboard', sb, n, capMs));
  }));
  if (hasNats) {
    await run('local, nats-server', () => withDirs(1, async ([dir]) => {
      const ns = await startNatsServer(['-js', '-sd', dir]);
      return stopAfter(ns, () => local('nats-server', ns, n, capMs));
    }));
    // Both edges dial the hub's leafnode port with JetStream domains; each starts with no leaf remote (the link down), and an edge process with the remote is the link coming up.
    for (const edgeKind of ['switchboard', 'nats-server'] as const) {
      await run(`external, ${edgeKind} edge <- nats-server hub over a leafnode link`, () => withDirs(2, async ([hubDir, edgeDir]) => {
        const leafPort = await freePort();
        const hub = await startNatsServerWithConfig(`jetstream { store_dir: "${hubDir}", domain: hub }\nleafnodes { listen: "127.0.0.1:${leafPort}" }`);
        return stopAfter(hub, async () => {
          const edgePort = await freePort();
          const startEdge = (linked: boolean): Promise<RunningServer & { child: ChildProcess }> => {
            const remotes = [{ url: `nats-leaf://127.0.0.1:${leafPort}` }];
            if (edgeKind === 'nats-server') {
              return startNatsServerWithConfig(`jetstream { store_dir: "${edgeDir}", domain: edge }${linked ? `\nleafnodes { remotes: ${JSON.stringify(remotes)} }` : ''}`, edgePort);
            }
            const file = join(edgeDir, 'edge.json');
            writeFileSync(file, JSON.stringify({ jetstream: { domain: 'edge' }, ...(linked ? { leafnodes: { reconnect: '250ms', remotes } } : {}) }));
            return startSwitchboardProcess(['-c', file, '-sd', join(edgeDir, 'store')], edgePort);
          };
          let edge = await startEdge(false);
          try {
            return await external(edgeKind, hub.url, edge.url, async () => {
              await edge.stop();
              edge = await startEdge(true);
              track(edge.child);
              return async () => {};
            }, n, capMs);
          } finally {
            await edge.stop();
          }
        });
      }));
    }
  } else {
    process.stdout.write('  nats-server not installed: Switchboard local figures only\n');
  }

  process.stdout.write(`\nCatch-up of a backlog of ${n} messages of ${PAYLOAD.length} B (cap ${capMs / 1000} s)\n`);
  process.stdout.write(`${'scenario'.padEnd(18)}${'target'.padEnd(14)}${'stored'.padStart(10)}${'seconds'.padStart(10)}${'msgs/s'.padStart(12)}   vs nats-server\n`);
  for (const o of outcomes) {
    const rate = o.stored / o.seconds;
    const peer = outcomes.find((p) => p.scenario === o.scenario && p.target === 'nats-server');
    const ratio = o.target !== 'nats-server' && peer !== undefined ? `${(rate / (peer.stored / peer.seconds)).toFixed(2)}x` : '';
    const note = o.stored < n ? ` (cap hit: ${o.stored} of ${n})` : '';
    process.stdout.write(`${o.scenario.padEnd(18)}${o.target.padEnd(14)}${String(o.stored).padStart(10)}${o.seconds.toFixed(2).padStart(10)}${Math.round(rate).toString().padStart(12)}   ${ratio}${note}\n`);
  }
}

await main();
