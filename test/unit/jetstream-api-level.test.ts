// The JetStream API level Switchboard reports (ADR-44): the highest level whose
// features are all done, in $JS.API.INFO (`api.level`), INFO (`api_lvl`) and
// the INFO version clients gate features on.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { API_LEVEL_FEATURES, JS_API_LEVEL, natsVersionOfApiLevel, reachedApiLevel } from '../../core/protocol/jetstream-api-level.ts';
import { startSwitchboardJetStream } from '../helpers/jetstream.ts';

describe('jetstream api level', () => {
  let server: Awaited<ReturnType<typeof startSwitchboardJetStream>>;
  let nc: NatsConnection;
  before(async () => {
    server = await startSwitchboardJetStream();
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('api level - a level counts only when it and every level below are done', () => {
    const f = (done: boolean) => [{ name: 'x', done }];
    assert.equal(reachedApiLevel({ 1: f(true), 2: f(false), 3: [], 4: f(true) }), 1);
    assert.equal(reachedApiLevel({ 1: f(false), 2: f(true) }), 0);
    assert.equal(reachedApiLevel({ 1: f(true), 2: f(true), 3: [], 4: f(true) }), 4);
    assert.deepEqual([0, 1, 2, 4].map(natsVersionOfApiLevel), ['2.10.0', '2.11.0', '2.12.0', '2.14.0']);
    assert.equal(JS_API_LEVEL, reachedApiLevel(API_LEVEL_FEATURES));
  });

  it('api level - $JS.API.INFO, INFO api_lvl and the INFO version say the same level', async () => {
    const info = await (await jetstreamManager(nc)).getAccountInfo();
    assert.equal((info.api as { level?: number }).level, JS_API_LEVEL);
    assert.equal(nc.info?.version, natsVersionOfApiLevel(JS_API_LEVEL));
    assert.equal((nc.info as { api_lvl?: number } | undefined)?.api_lvl, JS_API_LEVEL > 0 ? JS_API_LEVEL : undefined);
  });
});
