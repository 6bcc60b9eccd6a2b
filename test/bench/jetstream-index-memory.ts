// Memory the file store's in-memory index needs: N messages on N distinct
// subjects (and on one subject), payloads on disk. Run with --expose-gc;
// prints one JSON line. Used by test/bench/jetstream-bench.ts.
//   node --expose-gc --import tsx test/bench/jetstream-index-memory.ts [count]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStreamStore } from '../../core/jetstream/store/file-stream-store.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const count = Number(process.argv[2] ?? 1_000_000);

function measure(distinct: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'sb-index-mem-'));
  try {
    (gc as () => void)();
    const before = process.memoryUsage();
    const store = new FileStreamStore('mem', undefined, { dir, cacheBytes: 1 << 20 });
    const data = Buffer.alloc(16, 1);
    for (let i = 0; i < count; i++) {
      store.append(`sensors.device${i % distinct}.temperature`, null, data);
      if (i % 1000 === 999) store.commit();
    }
    store.commit();
    (gc as () => void)();
    const after = process.memoryUsage();
    void store.close();
    return (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / count;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const perSubject = measure(count);
const perMessage = measure(1);
process.stdout.write(`${JSON.stringify({ count, bytesPerDistinctSubjectMessage: Math.round(perSubject), bytesPerMessageOneSubject: Math.round(perMessage) })}\n`);
