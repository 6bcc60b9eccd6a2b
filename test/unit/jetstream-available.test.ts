// awaitJetStream, on a real EmbeddedBroker and router: no responders on
// $JS.API.INFO is JetStream switched off (fail at once), silence is a cluster
// still electing its meta leader (ask again until it answers or the deadline).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from '../helpers/peer-test.ts';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { JetStreamUnavailableError } from '../../core/broker/errors.ts';
import { awaitJetStream } from '../../core/jetstream-client/jetstream-available.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { Router } from '../../core/server/router.ts';
import { startNatsServerWithConfig } from '../helpers/servers.ts';

const SERVERS = ['nats://a:4222', 'nats://b:4222'];

describe('awaitJetStream', () => {
  it('jetstream available - no responders fails at once, naming the servers', async () => {
    const broker = new EmbeddedBroker(new Router());
    try {
      const started = Date.now();
      // Against a 60 s deadline: failing well before it means no retries, on any machine.
      await assert.rejects(awaitJetStream(broker, SERVERS, 60_000), (error: unknown) => {
        assert.ok(error instanceof JetStreamUnavailableError);
        assert.deepEqual(error.servers, SERVERS);
        assert.match(error.message, /^no JetStream on the NATS servers at nats:\/\/a:4222, nats:\/\/b:4222: JetStream is not enabled there$/);
        return true;
      });
      assert.ok(Date.now() - started < 30_000, 'no retries when nobody listens');
    } finally {
      await broker.close();
    }
  });

  it('jetstream available - a silent API is asked again until it answers', async () => {
    const broker = new EmbeddedBroker(new Router());
    let asked = 0;
    const api = await broker.subscribe('$JS.API.INFO', (message) => {
      asked++;
      if (asked >= 2 && message.reply !== null) void broker.publish(message.reply, new TextEncoder().encode('{}'));
    });
    try {
      await awaitJetStream(broker, SERVERS, 10_000);
      assert.equal(asked, 2, 'the first request timed out, the second was answered');
    } finally {
      api.unsubscribe();
      await broker.close();
    }
  });

  it('jetstream available - a silent API past the deadline fails with the reason', async () => {
    const broker = new EmbeddedBroker(new Router());
    const api = await broker.subscribe('$JS.API.INFO', () => {});
    try {
      await assert.rejects(awaitJetStream(broker, SERVERS, 100), /JetStream did not answer within 100 ms/);
    } finally {
      api.unsubscribe();
      await broker.close();
    }
  });

  it('jetstream available - an account without JetStream on nats-server -js fails at once with its err_code', { peers: ['nats-server'] }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'js-available-'));
    const server = await startNatsServerWithConfig(
      `jetstream { store_dir: ${JSON.stringify(dir)} }\naccounts { WITH: { jetstream: enabled, users: [{ user: a, password: a }] }, WITHOUT: { users: [{ user: b, password: b }] } }`,
    );
    let broker: NatsBroker | null = null;
    try {
      broker = await NatsBroker.connect({ servers: server.url, user: 'b', pass: 'b' });
      const started = Date.now();
      await assert.rejects(awaitJetStream(broker, [server.url], 60_000), (error: unknown) => {
        assert.ok(error instanceof JetStreamUnavailableError);
        assert.match(error.message, /err_code 10039/);
        return true;
      });
      assert.ok(Date.now() - started < 30_000, 'a refusal is final, not retried until the deadline');
    } finally {
      await broker?.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
