// Server-side cost of consumer delivery and acks, in process (no sockets, no
// client): a stream of 100k 128-byte messages, one durable pull consumer, an
// internal subscriber as the requester pulling batches of 1000 and, with
// `ack`, acking every message. Prints msgs/s and CPU microseconds per message.
//   node --import tsx test/bench/consumer-cpu.ts [file|memory] [ack|noack]

import { rmSync } from 'node:fs';
import { consumerConfigFromWire } from '../../core/jetstream/consumer/consumer-config.ts';
import { JetStreamEngine } from '../../core/jetstream/jetstream-engine.ts';
import { streamConfigFromWire } from '../../core/jetstream/stream-config.ts';
import { Router } from '../../core/server/router.ts';
import { nextInternalSubscriberId, Subscription, type Subscriber } from '../../core/server/subscription.ts';
import { tempStoreDir } from '../helpers/jetstream.ts';

const storage = process.argv[2] === 'memory' ? 'memory' : 'file';
const ack = process.argv[3] === 'ack';
const N = 100_000;
const BATCH = 1000;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const dir = tempStoreDir('sb-ccpu-');
const router = new Router();
const engine = new JetStreamEngine(router, { storeDir: dir });
await engine.start();
const { stream } = engine.createStream(streamConfigFromWire({ name: 'P', subjects: ['p'], storage }));
const body = Buffer.alloc(128, 97);
for (let i = 0; i < N; i += BATCH) {
  for (let k = 0; k < BATCH; k++) router.publish('p', null, -1, body, null);
  await turn();
}
const config = consumerConfigFromWire({ durable_name: 'b', ack_policy: ack ? 'explicit' : 'none', max_ack_pending: 2 * BATCH }, stream.config);
engine.consumers.create(stream, config, '');

let got = 0;
let batchDone: () => void = () => {};
const replies: string[] = [];
const requester: Subscriber = {
  id: nextInternalSubscriberId(),
  echo: true,
  deliver(_sub, _subject, reply) {
    got++;
    if (ack && reply !== null) replies.push(reply);
    if (got % BATCH === 0) batchDone();
  },
  subscriptionEnded() {},
};
router.subscribe(new Subscription(requester, 'inbox', null, '1'));
const request = Buffer.from(JSON.stringify({ batch: BATCH }));
const empty = Buffer.alloc(0);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
while (got < N) {
  const done = new Promise<void>((r) => (batchDone = r));
  router.publish('$JS.API.CONSUMER.MSG.NEXT.P.b', 'inbox', -1, request, null);
  await done;
  for (const r of replies) router.publish(r, null, -1, empty, null);
  replies.length = 0;
}
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${storage} ${ack ? 'ack' : 'noack'}: ${Math.round(N / (wall / 1000))} msgs/s, ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU/msg\n`);
await engine.stop();
rmSync(dir, { recursive: true, force: true });
