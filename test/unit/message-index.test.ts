// MessageIndex.restore: a removed message comes back (a failed write took
// back the publish that removed it, issue 29 item 7), also below the slots the
// index has reclaimed and into an index left empty.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageIndex } from '../../core/jetstream/store/message-index.ts';

describe('message index restore', () => {
  it('message index - a message restored below the reclaimed prefix is found by every query', () => {
    const ix = new MessageIndex(true);
    for (let seq = 1; seq <= 5000; seq++) ix.add(seq, seq % 2 === 0 ? 'even' : 'odd', seq, 10, seq * 100);
    for (let seq = 1; seq < 4990; seq++) ix.remove(seq);
    assert.equal(ix.firstSeq(), 4990);
    ix.restore(7, 'odd', 7, 10, 700);
    ix.restore(4988, 'even', 4988, 10, 498_800);
    assert.equal(ix.msgs, 13);
    assert.equal(ix.bytes, 130);
    assert.equal(ix.firstSeq(), 7);
    assert.equal(ix.nextSeq(1, null), 7);
    assert.equal(ix.nextSeq(8, null), 4988);
    assert.equal(ix.nextSeq(1, 'even'), 4988);
    assert.deepEqual(ix.collect('odd', 4995), [7, 4991, 4993]);
    assert.equal((ix.loc as Uint32Array)[ix.slot(7)], 700);
    assert.equal(ix.timeOf(4988), 4988);
    assert.equal(ix.seqFromTime(8), 4988);
    assert.equal(ix.subjects.count[ix.subjects.idOf('odd')], 6);
    assert.equal(ix.resolveFirst(ix.subjects.idOf('odd')), 7);
    assert.equal(ix.numPending(1, 'even'), 7);
  });

  it('message index - a message restored into an emptied index is its only one, and the last sequence stays', () => {
    const ix = new MessageIndex(false);
    for (let seq = 1; seq <= 3; seq++) ix.add(seq, 'a', seq, 5);
    ix.remove(1);
    ix.remove(2);
    ix.rollBack(2);
    assert.equal(ix.msgs, 0);
    ix.restore(2, 'b', 2, 5, 0);
    ix.restore(1, 'a', 1, 5, 0);
    assert.equal(ix.msgs, 2);
    assert.equal(ix.lastSeq, 2);
    assert.equal(ix.firstSeq(), 1);
    assert.equal(ix.lastSeqOf(null), 2);
    assert.equal(ix.lastTime, 2);
    assert.equal(ix.resolveLast(ix.subjects.idOf('b')), 2);
    assert.deepEqual(ix.collect(null), [1, 2]);
  });
});
