// The Connection seam's contract (DESIGN seam 1), one suite for every
// implementation: bytes in order both ways, write() returning false while the
// peer does not read and drain once it catches up, end() delivering what is
// queued, pauseReading() holding input back, destroy() and peer close each
// reported once, to listeners or to an attached owner.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { attachOwner, type Connection } from '../../core/connection/connection.ts';
import { until } from './mqtt.ts';

/** The far end of a Connection, as a test drives it. */
export interface PeerEnd {
  send(data: Buffer): void;
  /** Everything received so far. */
  received(): Buffer;
  /** Stop / restart reading, like a browser tab whose page stalls. */
  pause(): void;
  resume(): void;
  close(): void;
  readonly closed: boolean;
}

export interface ConnectionPair {
  connection: Connection;
  peer: PeerEnd;
  dispose(): Promise<void>;
}

export type MakeConnectionPair = () => Promise<ConnectionPair>;

export function describeConnection(name: string, makePair: MakeConnectionPair): void {
  describe(`connection contract (${name})`, () => {
    const open: ConnectionPair[] = [];
    after(async () => {
      for (const pair of open) await pair.dispose();
    });
    async function pair(): Promise<ConnectionPair> {
      const made = await makePair();
      open.push(made);
      return made;
    }

    it('connection - batches arrive in order, and peer bytes reach onData', async () => {
      const { connection, peer } = await pair();
      const inbound: Buffer[] = [];
      connection.onData((chunk) => void inbound.push(chunk));
      connection.write([Buffer.from('one '), Buffer.from('two ')]);
      connection.write([Buffer.from('three')]);
      await until(() => peer.received().toString() === 'one two three', 'the batches at the peer');
      peer.send(Buffer.from('PING\r\n'));
      peer.send(Buffer.from('PO'));
      peer.send(Buffer.from('NG\r\n'));
      await until(() => Buffer.concat(inbound).toString() === 'PING\r\nPONG\r\n', 'the peer bytes');
    });

    it('connection - write() reports back-pressure while the peer stops reading, then drain', async () => {
      const { connection, peer } = await pair();
      let drains = 0;
      connection.onDrain(() => void drains++);
      peer.pause();
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let written = 0;
      // Bounded: 256 MiB is far past any loopback buffer.
      while (written < 4096 && connection.write([chunk])) written++;
      written++;
      assert.ok(written < 4096, 'write() returned false before 256 MiB');
      assert.ok(connection.writableLength > 0, 'the queue is visible as writableLength');
      assert.equal(drains, 0, 'no drain while the peer is not reading');
      peer.resume();
      await until(() => drains > 0, 'drain after the peer reads again', 10_000);
      assert.ok(connection.writableLength < 64 * 1024, `drained down to ${connection.writableLength}`);
      await until(() => peer.received().length === written * chunk.length, 'every byte at the peer', 10_000);
    });

    it('connection - pauseReading() holds peer bytes back until resumeReading()', async () => {
      const { connection, peer } = await pair();
      assert.ok(connection.pauseReading && connection.resumeReading, 'the transport can pause reading');
      const inbound: Buffer[] = [];
      connection.onData((chunk) => void inbound.push(chunk));
      connection.pauseReading();
      peer.send(Buffer.from('held'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(inbound.length, 0, 'nothing is delivered while paused');
      connection.resumeReading();
      await until(() => Buffer.concat(inbound).toString() === 'held', 'the bytes after resume');
    });

    it('connection - end() delivers what is queued, then reports close once', async () => {
      const { connection, peer } = await pair();
      let closes = 0;
      connection.onClose(() => void closes++);
      connection.write([Buffer.from('-ERR \'Authorization Violation\'\r\n')]);
      connection.end();
      await until(() => closes === 1 && peer.closed, 'close on both ends');
      assert.equal(peer.received().toString(), '-ERR \'Authorization Violation\'\r\n');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(closes, 1);
    });

    it('connection - destroy() and a peer close are each reported once', async () => {
      const first = await pair();
      let firstCloses = 0;
      first.connection.onClose(() => void firstCloses++);
      first.connection.destroy();
      await until(() => firstCloses === 1 && first.peer.closed, 'destroy seen on both ends');
      const second = await pair();
      let secondCloses = 0;
      second.connection.onClose(() => void secondCloses++);
      second.peer.close();
      await until(() => secondCloses === 1, 'the peer close');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(firstCloses + secondCloses, 2);
      assert.equal(second.connection.write([Buffer.from('late')]), false, 'write after close reports false');
    });

    it('connection - an attached owner gets the peer bytes in order and the close once', async () => {
      const pairs = [await pair(), await pair()];
      // Two owners: a transport that shares its listeners among connections must tell them apart.
      const owners = pairs.map(() => {
        const owner = { inbound: [] as Buffer[], closes: 0, onData: (chunk: Buffer) => void owner.inbound.push(chunk), onClose: () => void owner.closes++ };
        return owner;
      });
      pairs.forEach(({ connection }, i) => attachOwner(connection, owners[i]));
      pairs[0].peer.send(Buffer.from('PI'));
      pairs[1].peer.send(Buffer.from('SUB a 1\r\n'));
      pairs[0].peer.send(Buffer.from('NG\r\n'));
      await until(() => Buffer.concat(owners[0].inbound).toString() === 'PING\r\n', 'the first peer\'s bytes');
      await until(() => Buffer.concat(owners[1].inbound).toString() === 'SUB a 1\r\n', 'the second peer\'s bytes');
      pairs[1].peer.close();
      await until(() => owners[1].closes === 1, 'the second peer\'s close');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(owners.map((o) => o.closes), [0, 1]);
    });
  });
}
