// The Kafka bridge's TLS and SASL settings reach the wire: the mock cluster sits
// behind the test proxy speaking TLS (a certificate from a test CA) and
// demanding SASL PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 with real credential
// checks (kafka-sasl.ts). Records cross both ways (kcat on the mock's plain
// side, nats.js on NATS); a wrong password, or a CA the bridge does not trust,
// stop the mapping with the reason in its metrics, and nothing is written.
// The last case does it all from `switchboard --kafka-*` flags in a child process.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import type { KafkaClientConfig, MappingConfig } from '../../connectors/kafka/config.ts';
import { createKafkaBridge, type KafkaBridge } from '../../connectors/kafka/kafka-bridge.ts';
import { waitFor, waitForRunning } from '../helpers/kafka-fixture.ts';
import { kcatConsume, kcatProduce, startKafkaMock, type KafkaMock } from '../helpers/kafka-mock.ts';
import { startKafkaProxy, type KafkaProxy } from '../helpers/kafka-proxy.ts';
import type { SaslMechanism, SaslUser } from '../helpers/kafka-sasl.ts';
import { startSwitchboard, startSwitchboardProcess } from '../helpers/servers.ts';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.ts';

describe('kafka bridge security', { peers: ['kcat', 'openssl'] }, () => {
  let certs: TestCerts;
  let mock: KafkaMock;
  let switchboard: Awaited<ReturnType<typeof startSwitchboard>>;
  let broker: EmbeddedBroker;
  let nc: NatsConnection;
  let ca: string;
  const proxies: KafkaProxy[] = [];
  const bridges: KafkaBridge[] = [];

  before(async () => {
    certs = makeTestCerts();
    mock = await startKafkaMock();
    switchboard = await startSwitchboard();
    broker = switchboard.broker;
    nc = await connect({ servers: switchboard.url });
    ca = readFileSync(certs.caCert, 'utf8');
  });

  after(async () => {
    for (const bridge of bridges) await bridge.stop();
    for (const proxy of proxies) await proxy.close();
    await nc?.close();
    await broker?.close();
    await switchboard?.stop();
    await mock?.stop();
    certs?.cleanup();
  });

  /** The mock behind a TLS listener that demands `user`. */
  async function secureProxy(user: SaslUser): Promise<KafkaProxy> {
    const proxy = await startKafkaProxy(3, { tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) }, sasl: user });
    proxy.retarget(mock.brokers);
    proxies.push(proxy);
    return proxy;
  }

  function bridgeFor(kafka: KafkaClientConfig, mappings: MappingConfig[]): KafkaBridge {
    const bridge = createKafkaBridge({ broker, kafka: { ...kafka, connectionTimeoutMs: 2_000 }, mappings, logLevel: 'nothing', drainTimeoutMs: 500 });
    bridges.push(bridge);
    return bridge;
  }

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as SaslMechanism[]) {
    it(`kafka security - TLS + SASL ${mechanism}: records cross both ways`, async () => {
      const user = { mechanism, username: `bridge-${mechanism}`, password: `pw ${mechanism} é` };
      const proxy = await secureProxy(user);
      const tag = mechanism.replaceAll('-', '');
      const bridge = bridgeFor({ brokers: proxy.brokers, ssl: { ca }, sasl: user }, [
        { name: `in-${tag}`, direction: 'kafka-to-nats', topics: [`sec-in-${tag}`], groupId: `sec-${tag}`, subject: `secin.{topic}` },
        { name: `out-${tag}`, direction: 'nats-to-kafka', subject: `secout.${tag}`, topic: `sec-out-${tag}` },
      ]);
      const got: string[] = [];
      nc.subscribe(`secin.sec-in-${tag}`, { callback: (_error, message) => void got.push(message.string()) });
      await nc.flush();
      await bridge.start();
      await waitForRunning(bridge);
      nc.publish(`secout.${tag}`, `over TLS with ${mechanism}`);
      await nc.flush();
      await waitFor(() => bridge.metrics().mappings.find((m) => m.direction === 'nats-to-kafka')?.messages === 1, 20_000, 'the write acknowledged');
      assert.equal(kcatConsume(mock.bootstrap, `sec-out-${tag}`, 1)[0]?.payload, `over TLS with ${mechanism}`);
      for (let i = 0; i < 40 && got.length === 0; i++) {
        kcatProduce(mock.bootstrap, `sec-in-${tag}`, { value: `from kafka ${i}` });
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      assert.match(got[0] ?? '', /^from kafka \d+$/, 'a record produced to Kafka reached NATS through the authenticated consumer');
      assert.ok(bridge.metrics().mappings.every((m) => m.errors === 0), JSON.stringify(bridge.metrics().mappings));
      await bridge.stop();
    });
  }

  it('kafka security - a wrong password stops the mapping with the broker\'s reason, and nothing is written', async () => {
    const proxy = await secureProxy({ mechanism: 'scram-sha-512', username: 'bridge', password: 'right' });
    const bridge = bridgeFor({ brokers: proxy.brokers, ssl: { ca }, sasl: { mechanism: 'scram-sha-512', username: 'bridge', password: 'wrong' } }, [
      { name: 'denied', direction: 'nats-to-kafka', subject: 'secdenied', topic: 'sec-denied' },
    ]);
    await bridge.start();
    nc.publish('secdenied', 'must not arrive');
    await nc.flush();
    await waitFor(() => bridge.metrics().mappings[0].errors > 0, 20_000, 'the failure counted');
    const mapping = bridge.metrics().mappings[0];
    assert.notEqual(mapping.state, 'running');
    assert.equal(mapping.messages, 0);
    assert.match(mapping.lastError?.message ?? '', /"denied"/);
    assert.match(mapping.lastError?.message ?? '', /SASL|[Aa]uthentication failed/);
    assert.throws(() => kcatConsume(mock.bootstrap, 'sec-denied', 1, 3_000), /kcat read 0 of 1 records/, 'nothing reached Kafka');
    await bridge.stop();
  });

  it('kafka security - without the CA the broker certificate is refused', async () => {
    const user: SaslUser = { mechanism: 'plain', username: 'bridge', password: 'pw' };
    const proxy = await secureProxy(user);
    const bridge = bridgeFor({ brokers: proxy.brokers, ssl: true, sasl: user }, [{ name: 'untrusted', direction: 'nats-to-kafka', subject: 'secuntrusted', topic: 'sec-untrusted' }]);
    await bridge.start();
    await waitFor(() => bridge.metrics().mappings[0].errors > 0, 20_000, 'the failure counted');
    const mapping = bridge.metrics().mappings[0];
    assert.notEqual(mapping.state, 'running');
    assert.match(mapping.lastError?.message ?? '', /certificate/i);
    await bridge.stop();
  });

  it('kafka security - switchboard --kafka-tls-ca and --kafka-sasl-* flags connect the bridge of a child process', async () => {
    const user: SaslUser = { mechanism: 'scram-sha-256', username: 'cli-bridge', password: 'cli secret' };
    const proxy = await secureProxy(user);
    const server = await startSwitchboardProcess([
      '--kafka-brokers', proxy.brokers.join(','),
      '--kafka-tls-ca', certs.caCert,
      '--kafka-sasl-mechanism', user.mechanism, '--kafka-sasl-user', user.username, '--kafka-sasl-pass', user.password,
      '--kafka-mapping', JSON.stringify({ name: 'cli-out', direction: 'nats-to-kafka', subject: 'seccli', topic: 'sec-cli' }),
    ]);
    const client = await connect({ servers: server.url });
    try {
      const kafkaz = async (): Promise<{ mappings: Array<{ state: string; messages: number; lastError: unknown }> }> =>
        (await (await fetch(`http://127.0.0.1:${server.monitorPort}/kafkaz`)).json()) as { mappings: Array<{ state: string; messages: number; lastError: unknown }> };
      const deadline = Date.now() + 20_000;
      while ((await kafkaz()).mappings[0]?.state !== 'running' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      client.publish('seccli', 'from the command line');
      await client.flush();
      while ((await kafkaz()).mappings[0]?.messages !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual((await kafkaz()).mappings.map((m) => [m.state, m.messages, m.lastError]), [['running', 1, null]]);
      assert.equal(kcatConsume(mock.bootstrap, 'sec-cli', 1)[0]?.payload, 'from the command line');
    } finally {
      await client.close();
      await server.stop();
    }
  });
});
