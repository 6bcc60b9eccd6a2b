// Sublist match cost when one-off subjects (request replies on `_INBOX.<id>.<n>`,
// JetStream ack subjects) are interleaved with a working set of repeated
// subjects, as on a server answering requests. Prints ns per match and the
// cache hit rate for each working-set size.
//   node --import tsx test/bench/sublist-cache.ts

import { Sublist } from '../../core/subject/sublist.ts';

interface Entry {
  readonly subject: string;
  readonly queue: string | null;
}

const ROUNDS = 400_000;

function build(): Sublist<Entry> {
  const list = new Sublist<Entry>();
  for (let i = 0; i < 2000; i++) list.insert({ subject: `svc.${i}.req`, queue: null });
  for (let i = 0; i < 200; i++) list.insert({ subject: `svc.${i}.*`, queue: 'workers' });
  for (let c = 0; c < 50; c++) list.insert({ subject: `_INBOX.client${c}.*`, queue: null });
  list.insert({ subject: '$JS.API.>', queue: null });
  list.insert({ subject: '>', queue: null });
  return list;
}

function run(hot: number, oneOffEvery: number): { nsPerMatch: number; hitRate: number } {
  const list = build();
  const hotSubjects = Array.from({ length: hot }, (_, i) => `svc.${i}.req`);
  const replies = Array.from({ length: ROUNDS }, (_, n) => `_INBOX.client${n % 50}.${n}`);
  let sink = 0;
  // Warm-up pass so the JIT and the cache settle before timing.
  for (let n = 0; n < 50_000; n++) sink += list.match(hotSubjects[n % hot]).psubs.length;
  const before = list.stats();
  const t0 = process.hrtime.bigint();
  let matches = 0;
  for (let n = 0; n < ROUNDS; n++) {
    sink += list.match(hotSubjects[n % hot]).psubs.length;
    matches++;
    if (n % oneOffEvery === 0) {
      sink += list.match(replies[n]).psubs.length;
      matches++;
    }
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const after = list.stats();
  if (sink < 0) throw new Error('unreachable');
  return { nsPerMatch: ns / matches, hitRate: (after.cacheHits - before.cacheHits) / (after.matches - before.matches) };
}

for (const hot of [100, 700, 1000]) {
  for (const every of [1, 4]) {
    const r = run(hot, every);
    process.stdout.write(`hot subjects ${String(hot).padStart(4)}, one-off every ${every}: ${r.nsPerMatch.toFixed(0).padStart(4)} ns/match, hit rate ${(r.hitRate * 100).toFixed(1)}%\n`);
  }
}
