// Two gateways' session handovers on one real broker (the embedded router):
// a probe tells a session some gateway holds from one nobody holds, without
// taking it from its holder, and OrphanedSessions expires only the sessions
// nobody has held for their whole interval.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { Router } from '../../core/server/router.ts';
import { OrphanedSessions } from '../../gateways/mqtt/orphaned-sessions.ts';
import { SessionHandover } from '../../gateways/mqtt/session-handover.ts';

describe('mqtt orphaned sessions', () => {
  it('mqtt orphan - a probe sees a session another gateway holds and does not take it', async () => {
    const broker = new EmbeddedBroker(new Router());
    const released: string[] = [];
    const a = new SessionHandover(broker, () => true, async (clientId) => void released.push(clientId), 'gateway-a', 500);
    const b = new SessionHandover(broker, () => true, async () => {}, 'gateway-b', 500);
    try {
      await a.start();
      await b.start();
      a.hold('sensor-1');
      assert.equal(await b.held('sensor-1'), true, 'held by gateway A');
      assert.equal(await b.held('sensor-2'), false, 'held by nobody');
      assert.deepEqual(released, [], 'a probe never releases the session');
      a.drop('sensor-1');
      assert.equal(await b.held('sensor-1'), false, 'nobody holds it once A dropped it');
    } finally {
      a.stop();
      b.stop();
      await broker.close();
    }
  });

  it('mqtt orphan - expiry counts from the first sweep that found the session held by nobody', async () => {
    const holders = new Set(['held']);
    const orphans = new OrphanedSessions(async (clientId) => holders.has(clientId));
    const sessions = [
      { clientId: 'held', expiryMs: 1_000, version: {} },
      { clientId: 'gone', expiryMs: 1_000, version: {} },
    ];
    assert.deepEqual(await orphans.expired(sessions, 10_000), [], 'first found orphaned now: not yet expired');
    assert.deepEqual(await orphans.expired(sessions, 10_999), []);
    assert.deepEqual(await orphans.expired(sessions, 11_000), ['gone'], 'one interval after it was first found');
    // Held again before its interval ran out: the count starts over.
    holders.add('gone');
    assert.deepEqual(await orphans.expired(sessions, 11_500), []);
    holders.delete('gone');
    assert.deepEqual(await orphans.expired(sessions, 12_000), []);
    assert.deepEqual(await orphans.expired(sessions, 13_000), ['gone']);
  });

  it('mqtt orphan - a record saved again (its client came back to a gateway that died too) starts the count over', async () => {
    const orphans = new OrphanedSessions(async () => false);
    const first = { clientId: 'moved', expiryMs: 1_000, version: {} };
    assert.deepEqual(await orphans.expired([first], 10_000), []);
    const resaved = { ...first, version: {} };
    assert.deepEqual(await orphans.expired([resaved], 10_500), [], 'found orphaned again in a new version: counted from now');
    assert.deepEqual(await orphans.expired([resaved], 11_000), [], 'not from the first version');
    assert.deepEqual(await orphans.expired([resaved], 11_500), ['moved']);
  });
});
