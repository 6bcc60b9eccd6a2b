// What `mqtt { retain_from_headers: true }` costs every publish, in CPU per
// message on the embedded core: 1 publisher -> 1 subscriber, 16 B, without and
// with the retain capture (a `>` queue subscription, excludeReserved), runs
// alternating. CPU time, not wall time: the machine is shared. Not part of `npm test`.
//   node --import tsx test/bench/retain-capture-cost.ts [messages] [rounds]

import { createCore } from '../../core/create-core.ts';
import { MessageHeaders } from '../../core/broker/headers.ts';
import { MemoryRetainedStore } from '../../gateways/mqtt/memory-store.ts';
import { RetainCapture } from '../../gateways/mqtt/retain-capture.ts';

const messages = Number(process.argv[2] ?? 300_000);
const rounds = Number(process.argv[3] ?? 4);
const core = createCore({ server: { host: '127.0.0.1', port: 0 } });
await core.start();
const broker = core.broker;
let received = 0;
await broker.subscribe('bench.ps', () => received++);
const payload = Buffer.alloc(16, 7);
const qosHeader = new MessageHeaders().append('Mqtt-Qos', '1');

/** CPU microseconds per message for `messages` publishes (headers or not). */
function run(headers: MessageHeaders | undefined): number {
  received = 0;
  const before = process.cpuUsage();
  for (let i = 0; i < messages; i++) void broker.publish('bench.ps', payload, headers === undefined ? undefined : { headers });
  const used = process.cpuUsage(before);
  if (received !== messages) throw new Error(`delivered ${received} of ${messages}`);
  return (used.user + used.system) / messages;
}

const results: Record<string, number[]> = {};
const record = (name: string, us: number): void => void (results[name] ??= []).push(us);
run(undefined); // warm up
for (let r = 0; r < rounds; r++) {
  record('plain, no capture', run(undefined));
  record('Mqtt-Qos header, no capture', run(qosHeader));
  const capture = new RetainCapture(broker, () => new MemoryRetainedStore(), console.error);
  await capture.start();
  record('plain, capture', run(undefined));
  record('Mqtt-Qos header, capture', run(qosHeader));
  capture.stop();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(results)) {
  process.stdout.write(`${name.padEnd(30)} median ${(median(xs) * 1000).toFixed(0)} ns/msg  (runs: ${xs.map((x) => (x * 1000).toFixed(0)).join(', ')})\n`);
}
await core.stop();
