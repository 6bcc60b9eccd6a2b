// `npm run bench`: every benchmark, one after another, each against the reference
// server when it is installed (nats-server, mosquitto, the Kafka mock), so one
// command gives every issue's figures. Each section is its own script (run alone
// with the command it prints) in a child process, so one section's servers,
// memory and failures never touch the next. Not part of `npm test`.
//
//   npm run bench -- [--quick] [--suites core,jetstream,...] [-- <options for the core section>]

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../helpers/servers.ts';

interface Section {
  readonly name: string;
  readonly what: string;
  readonly script: string;
  /** Arguments for a full run and for --quick. */
  readonly args: (quick: boolean) => string[];
}

const quickFlag = (quick: boolean): string[] => (quick ? ['--quick'] : []);

const SECTIONS: readonly Section[] = [
  { name: 'core', what: 'core NATS: pub, pub/sub, fan-out, queue, request/reply latency, memory', script: 'run.ts', args: quickFlag },
  { name: 'jetstream', what: 'streams: async/sync publish (file, memory), fast and atomic batch publish, direct get, recovery', script: 'jetstream-bench.ts', args: quickFlag },
  { name: 'consumers', what: 'consumers: pull and push consume, acks', script: 'jetstream-consumer-bench.ts', args: quickFlag },
  { name: 'kv', what: 'key-value and object store: put/get, listing and watch at 100k keys, object MiB/s', script: 'kv-bench.ts', args: quickFlag },
  { name: 'mqtt', what: 'MQTT QoS 0/1/2 throughput, 10,000 clients: memory and fan-out; fleet: connect rate, memory per idle connection, reconnect storm', script: 'mqtt-bench.ts', args: quickFlag },
  { name: 'http', what: 'HTTP publish, batch publish, KV, SSE fan-out', script: 'http-bench.ts', args: quickFlag },
  { name: 'websocket', what: 'WebSocket NATS throughput beside plain TCP', script: 'websocket-throughput.ts', args: quickFlag },
  { name: 'kafka', what: 'Kafka bridge msgs/s each way', script: 'kafka-bridge-bench.ts', args: (quick) => (quick ? ['20000'] : []) },
  { name: 'cluster', what: 'MQTT and HTTP through two gateways on a 3-node nats-server cluster', script: 'cluster-bench.ts', args: quickFlag },
  { name: 'sourcing', what: 'sources: catch-up of a 1M-message backlog after an outage, local and through an API prefix', script: 'sourcing-bench.ts', args: quickFlag },
  { name: 'restart', what: 'kill -9 -> ready: empty store and 2M messages, tsx and compiled start', script: 'restart-bench.ts', args: quickFlag },
];

function main(argv: readonly string[]): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { quick: { type: 'boolean' }, suites: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`Usage: npm run bench -- [--quick] [--suites <names>] [-- <core options, see --suites core -- --help>]\n\n${SECTIONS.map((s) => `  ${s.name.padEnd(10)} ${s.what}`).join('\n')}\n`);
    return 0;
  }
  const wanted = values.suites?.split(',').map((name) => name.trim()) ?? SECTIONS.map((s) => s.name);
  const unknown = wanted.filter((name) => !SECTIONS.some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`unknown suite ${unknown.join(', ')}; known: ${SECTIONS.map((s) => s.name).join(', ')}`);
  const quick = values.quick === true;
  const outcomes: string[] = [];
  for (const section of SECTIONS.filter((s) => wanted.includes(s.name))) {
    const script = join('test', 'bench', section.script);
    if (!existsSync(join(PROJECT_ROOT, script))) {
      outcomes.push(`${section.name.padEnd(10)} SKIPPED (${script} not present)`);
      continue;
    }
    const args = ['--import', 'tsx', script, ...section.args(quick), ...(section.name === 'core' ? positionals : [])];
    process.stdout.write(`\n=== ${section.name}: ${section.what}\n    node ${args.join(' ')}\n\n`);
    const began = Date.now();
    const run = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, stdio: 'inherit' });
    const seconds = ((Date.now() - began) / 1000).toFixed(0);
    outcomes.push(`${section.name.padEnd(10)} ${run.status === 0 ? 'ok' : `FAILED (exit ${run.status ?? run.signal})`} in ${seconds} s`);
  }
  process.stdout.write(`\n=== summary\n${outcomes.join('\n')}\n`);
  return outcomes.some((line) => line.includes('FAILED')) ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 2;
}
