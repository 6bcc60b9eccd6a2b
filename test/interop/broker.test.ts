// The Broker contract on both implementations: EmbeddedBroker on the in-process
// core, and NatsBroker on Switchboard and on Debian's nats-server.

import type { Broker } from '../../core/broker/broker.ts';
import { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { describeBroker, type BrokerFixture } from '../helpers/broker-contract.ts';
import { requirePeer, startNatsServer, startSwitchboard, type RunningServer } from '../helpers/servers.ts';

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

if (requirePeer('nats-server')) {
  describeBroker('nats-broker on nats-server', async () => natsBrokerFixture(await startNatsServer()));
}
