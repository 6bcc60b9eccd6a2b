// The fast batch reply subject (ADR-50 fast ingest), read as nats-server's
// getFastBatch reads it: `<prefix>.<id>.<flow>.<gap>.<seq>.<op>.$FI`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFastBatchReply } from '../../core/jetstream/fast-batch.ts';

describe('fast batch reply', () => {
  it('fast batch reply - the parts, read from the end; a prefix of any depth', () => {
    assert.deepEqual(parseFastBatchReply('_INBOX.abc.10.ok.1.0.$FI'), { id: 'abc', seq: 1, flow: 10, gapOk: true, op: 0 });
    assert.deepEqual(parseFastBatchReply('a.b.c.id7.250.fail.42.1.$FI'), { id: 'id7', seq: 42, flow: 250, gapOk: false, op: 1 });
    assert.deepEqual(parseFastBatchReply('p.id.5.ok.9.4.$FI'), { id: 'id', seq: 9, flow: 5, gapOk: true, op: 4 });
  });

  it('fast batch reply - not a fast batch without the $FI suffix', () => {
    for (const reply of ['_INBOX.abc', '_INBOX.abc.10.ok.1.0', '.$FI', '$FI']) assert.equal(parseFastBatchReply(reply), undefined, reply);
  });

  it('fast batch reply - a broken pattern (nats-server answers 10206)', () => {
    for (const reply of [
      'abc.10.ok.1.0.$FI', // no prefix before the id
      'p.abc.10.ok.1.5.$FI', // unknown operation
      'p.abc.10.ok.1.x.$FI',
      'p.abc.10.ok.0.1.$FI', // sequence 0
      'p.abc.10.ok.2.0.$FI', // a start is sequence 1
      'p.abc.10.ok.1.1.$FI', // an append is past 1
      'p.abc.10.ok.1.3.$FI', // an end of batch cannot be the first message
      'p.abc.10.maybe.1.0.$FI', // gap mode
    ]) {
      assert.equal(parseFastBatchReply(reply), null, reply);
    }
  });

  it('fast batch reply - flow: none or zero means 10, more than 65535 is capped', () => {
    assert.equal(parseFastBatchReply('p.abc.0.ok.1.0.$FI')?.flow, 10);
    assert.equal(parseFastBatchReply('p.abc.x.ok.1.0.$FI')?.flow, 10);
    assert.equal(parseFastBatchReply('p.abc.99999999.ok.1.0.$FI')?.flow, 65_535);
  });
});
