// The Broker contract on both implementations: EmbeddedBroker on the in-process
// core, and NatsBroker on Switchboard and on Debian's nats-server.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import type { Broker } from '../../core/broker/broker.ts';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { BrokerError, RequestTimeoutError } from '../../core/broker/errors.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { describeBroker, type BrokerFixture } from '../helpers/broker-contract.ts';
import { startNatsServer, startNatsServerWithConfig, startSwitchboard, type RunningServer } from '../helpers/servers.ts';

function fixture(broker: Broker, peer: Broker, running: RunningServer): BrokerFixture {
  return {
    broker,
    peer,
    natsUrl: running.url,
    stop: async () => {
      await broker.close();
      await peer.close();
      await running.stop();
    },
  };
}

describeBroker('embedded', async () => {
  const running = await startSwitchboard();
  return fixture(new EmbeddedBroker(running.server.router), new EmbeddedBroker(running.server.router), running);
});

async function natsBrokerFixture(running: RunningServer): Promise<BrokerFixture> {
  return fixture(await NatsBroker.connect({ servers: running.url }), await NatsBroker.connect({ servers: running.url }), running);
}

describeBroker('nats-broker on switchboard', async () => natsBrokerFixture(await startSwitchboard()));

describeBroker('nats-broker on nats-server', async () => natsBrokerFixture(await startNatsServer()), { peers: ['nats-server'] });

// Permissions refused by the server fail requests at once, with the server's
// reason, instead of letting them run into their timeout.
describe('nats-broker permissions (nats-server)', { peers: ['nats-server'] }, () => {
  const users = `authorization {
  users = [
    { user: pub, password: pub, permissions: { publish: { allow: ["svc.>", "_INBOX.>"] }, subscribe: { allow: ["_INBOX.>", "svc.>"] } } }
    { user: noinbox, password: noinbox, permissions: { publish: { allow: ["svc.>"] }, subscribe: { allow: ["svc.>"] } } }
  ]
}`;
  let server: RunningServer;
  before(async () => {
    server = await startNatsServerWithConfig(users);
  });
  after(async () => server.stop());

  async function failsFast(user: string, subject: string): Promise<void> {
    const broker = await NatsBroker.connect({ servers: server.url, user, pass: user });
    try {
      // "At once" is "before the timeout": a long one, so a busy machine cannot fake
      // a pass or a failure; an error that is not a RequestTimeoutError came first.
      const error = await broker.request(subject, new Uint8Array(0), { timeoutMs: 60_000 }).then(() => null, (e: unknown) => e);
      assert.ok(error instanceof BrokerError && !(error instanceof RequestTimeoutError), String(error));
      assert.match(String((error.cause as Error | undefined)?.message), /Permissions Violation/i);
    } finally {
      await broker.close();
    }
  }

  it('broker - a publish the server refuses fails the request at once, naming the violation', async () => {
    await failsFast('pub', 'other.x');
  });

  it('broker - an inbox the server refuses fails the request at once, naming the violation', async () => {
    await failsFast('noinbox', 'svc.x');
  });
});
