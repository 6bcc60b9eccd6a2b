// TurnPacer (gateways/mqtt/turn-pacer.ts): bulk session work starts a few
// tasks per event-loop turn, in arrival order, so work queued by others
// (a connected client's PINGRESP flush) runs between turns.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnPacer } from '../../gateways/mqtt/turn-pacer.ts';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('mqtt turn pacer', () => {
  it('mqtt turn pacer - admits at most the per-turn count at once, the rest in order at later turns', async () => {
    const pacer = new TurnPacer(4, 1_000);
    const started: number[] = [];
    const done = Array.from({ length: 10 }, (_, i) => pacer.admit(async () => void started.push(i)));
    assert.deepEqual(started, [0, 1, 2, 3], 'four start in this turn');
    assert.equal(pacer.waiting, 6);
    // Something else scheduled now (as a PINGRESP flush is) runs in the next turn's check
    // phase, after that turn's four and before the last two.
    const between = await new Promise<number>((resolve) => setImmediate(() => resolve(started.length)));
    assert.equal(between, 8, 'one turn later: four more');
    await Promise.all(done);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(pacer.waiting, 0);
  });

  it('mqtt turn pacer - a turn ends once its CPU budget is spent', async () => {
    const pacer = new TurnPacer(100, 5);
    const started: number[] = [];
    const busy = (i: number) => async () => {
      started.push(i);
      const until = performance.now() + 3;
      while (performance.now() < until);
    };
    const done = [0, 1, 2, 3, 4].map((i) => pacer.admit(busy(i)));
    // Each task takes at least 3 ms, so the budget is spent after one or two (one on a descheduled, slow run).
    assert.ok(started.length >= 1 && started.length <= 2, `one or two start in this turn (${started.length})`);
    await nextTurn();
    assert.ok(started.length <= 4, `at most two more in the next turn (${started.length})`);
    await Promise.all(done);
    assert.equal(started.length, 5);
  });

  it('mqtt turn pacer - a deferred task never runs in the current task, and drain() runs what waits', async () => {
    const pacer = new TurnPacer();
    let ran = 0;
    pacer.defer(() => void ran++);
    await null;
    assert.equal(ran, 0, 'not in a microtask of this task');
    await nextTurn();
    assert.equal(ran, 1);
    pacer.defer(() => void ran++);
    pacer.defer(() => void ran++);
    pacer.drain();
    assert.equal(ran, 3);
  });

  it('mqtt turn pacer - a failing task rejects its own caller only', async () => {
    const pacer = new TurnPacer(1, 1_000);
    const first = pacer.admit(async () => {});
    const failing = pacer.admit(async () => {
      throw new Error('refused');
    });
    const third = pacer.admit(async () => {});
    await first;
    await assert.rejects(failing, /refused/);
    await third;
  });
});
