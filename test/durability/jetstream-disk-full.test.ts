// A file stream on a full filesystem (issue 29 item 7), on a real tmpfs of a
// few MiB (needs root to mount; skipped with a SKIPPED line otherwise): the
// publishes that cannot be stored get error PubAcks that name no server path,
// the server serves again once space returns, and after a restart the stream
// holds what was acknowledged.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startSwitchboardProcess, type SwitchboardProcess } from '../helpers/servers.ts';

/** Fill the filesystem of `path` to the last byte. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 100_000; i++) writeSync(fd, i % 2 === 0 ? block : block.subarray(0, 1024));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('jetstream disk full', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'switchboard-diskfull-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]).status === 0;
  const store = join(mountPoint, 'store');
  const filler = join(mountPoint, 'filler');
  let server: SwitchboardProcess | null = null;
  let nc: NatsConnection | null = null;
  const acked: number[] = [];
  const errors: string[] = [];

  before(async () => {
    if (!mounted) return;
    server = await startSwitchboardProcess(['-sd', store]);
    nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.add({ name: 'DF', subjects: ['df.>'] });
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
    if (mounted) spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('jetstream disk full - error PubAcks name no path, and publishing works again once space returns', async (t) => {
    if (!mounted) {
      process.stdout.write('SKIPPED: cannot mount a tmpfs (needs root)\n');
      return t.skip('cannot mount a tmpfs');
    }
    const js = jetstream(nc as NatsConnection);
    const payload = new Uint8Array(4096).fill(7);
    for (let i = 0; i < 20; i++) acked.push((await js.publish('df.a', payload)).seq);
    fillUp(filler);
    for (let i = 0; i < 200; i++) {
      try {
        acked.push((await js.publish('df.a', payload)).seq);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    assert.ok(errors.length > 0, `a full disk fails publishes (${acked.length} acknowledged)`);
    for (const e of errors) assert.ok(!e.includes(mountPoint) && !e.includes('.seg'), `no server path in ${JSON.stringify(e)}`);
    // A failed publish with a Nats-Msg-Id is not remembered: its retry is stored, not called a duplicate.
    await assert.rejects(js.publish('df.a', payload, { msgID: 'retry-1' }));
    rmSync(filler);
    const retried = await js.publish('df.a', payload, { msgID: 'retry-1' });
    assert.equal(retried.duplicate, false);
    acked.push(retried.seq);
    for (let i = 0; i < 5; i++) acked.push((await js.publish('df.a', payload)).seq);
  });

  it('jetstream disk full - after a restart the stream holds exactly the acknowledged messages', async (t) => {
    if (!mounted || server === null) return t.skip('cannot mount a tmpfs');
    await nc?.close();
    await server.stop();
    server = await startSwitchboardProcess(['-sd', store]);
    nc = await connect({ servers: server.url });
    const info = await (await jetstreamManager(nc)).streams.info('DF');
    assert.equal(info.state.messages, acked.length, `${errors.length} publishes got an error PubAck`);
    // The acknowledged sequences, and no gap where the failed ones were: a failed write gave its sequences back.
    assert.equal(info.state.last_seq, acked.length);
    assert.deepEqual(acked, acked.map((_, i) => i + 1));
  });
});
