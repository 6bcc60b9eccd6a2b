// The Subscriber contract run against every implementation, each through its
// own real client while nats.js publishes into the core: a NATS client
// (nats.js), an MQTT 5 session (mqtt.js), an HTTP NDJSON stream (fetch over a
// socket), JetStream's stream capture (read back with nats.js's
// JetStreamManager) and the Kafka bridge's nats-to-kafka mapping (read back
// from the mock Kafka cluster with kcat).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { IPublishPacket } from 'mqtt';
import { topicToSubject } from '../../gateways/mqtt/topic-mapping.ts';
import { startSwitchboardJetStream } from '../helpers/jetstream.ts';
import { startKafkaFixture, waitForRunning } from '../helpers/kafka-fixture.ts';
import { kcatConsume } from '../helpers/kafka-mock.ts';
import { connectMqtt, sleep, startSwitchboardMqtt } from '../helpers/mqtt.ts';
import { subjectToFilter } from '../helpers/permission-adapters.ts';
import { startSwitchboard } from '../helpers/servers.ts';
import { describeSubscriber, type Delivered, type SubscriberHandle, type SubscriberTarget } from '../helpers/subscriber-contract.ts';
import { startHttpFixture } from './http-fixture.ts';

/** The publishing side every target shares: nats.js on the core. */
function publisherOn(nc: NatsConnection): SubscriberTarget['publish'] {
  return async (subject, payload, headers) => {
    let h: MsgHdrs | undefined;
    if (headers !== undefined) {
      h = natsHeaders();
      for (const [k, v] of headers) h.append(k, v);
    }
    nc.publish(subject, payload, h === undefined ? undefined : { headers: h });
    await nc.flush();
  };
}

function pairsOf(h: MsgHdrs | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, values] of h ?? []) for (const v of values) out.push([k, v]);
  return out;
}

/** A handle over messages collected in memory as they arrive. */
function collected(messages: Delivered[], unsubscribe: () => Promise<void>): SubscriberHandle {
  return { count: async () => messages.length, messages: async () => [...messages], unsubscribe };
}

describeSubscriber(
  'nats client',
  async () => {
    const core = await startSwitchboard();
    const pub = await connect({ servers: core.url });
    const sub = await connect({ servers: core.url });
    return {
      publish: publisherOn(pub),
      async subscribe(subject, queue) {
        const messages: Delivered[] = [];
        const s = sub.subscribe(subject, {
          ...(queue === undefined ? {} : { queue }),
          callback: (_err, m) => void messages.push({ subject: m.subject, payload: Buffer.from(m.data), headers: pairsOf(m.headers) }),
        });
        await sub.flush();
        return collected(messages, async () => {
          s.unsubscribe();
          await sub.flush();
        });
      },
      async dispose() {
        await pub.close();
        await sub.close();
        await core.stop();
      },
    };
  },
  { queue: true, headers: true },
);

describeSubscriber(
  'mqtt 5 session',
  async () => {
    const sb = await startSwitchboardMqtt();
    const pub = await connect({ servers: sb.natsUrl });
    const clients: Array<{ end(force: boolean): unknown }> = [];
    return {
      publish: publisherOn(pub),
      async subscribe(subject, queue) {
        const client = await connectMqtt(sb.mqttUrl, { protocolVersion: 5 });
        clients.push(client);
        const messages: Delivered[] = [];
        client.on('message', (topic: string, payload: Buffer, packet: IPublishPacket) => {
          const headers: Array<[string, string]> = [];
          for (const [k, v] of Object.entries(packet.properties?.userProperties ?? {})) for (const value of Array.isArray(v) ? v : [v]) headers.push([k, value]);
          messages.push({ subject: topicToSubject(topic), payload: Buffer.from(payload), headers });
        });
        const filter = subjectToFilter(subject);
        await client.subscribeAsync(queue === undefined ? filter : `$share/${queue}/${filter}`, { qos: 0 });
        return collected(messages, async () => {
          await client.unsubscribeAsync(queue === undefined ? filter : `$share/${queue}/${filter}`);
        });
      },
      async dispose() {
        for (const c of clients) c.end(true);
        await pub.close();
        await sb.stop();
      },
    };
  },
  { queue: true, headers: true },
);

describeSubscriber(
  'http ndjson stream',
  async () => {
    const f = await startHttpFixture();
    const pub = await connect({ servers: f.natsUrl });
    const open: Array<() => Promise<void>> = [];
    return {
      publish: publisherOn(pub),
      async subscribe(subject, queue) {
        const abort = new AbortController();
        const query = `?encoding=base64&heartbeat=0${queue === undefined ? '' : `&queue=${encodeURIComponent(queue)}`}`;
        // The response headers come once the subscription is live at the core.
        const res = await fetch(`${f.base}/v1/subjects/${encodeURIComponent(subject)}${query}`, { headers: { accept: 'application/x-ndjson' }, signal: abort.signal });
        if (res.status !== 200) throw new Error(`subscribe ${subject}: HTTP ${res.status} ${await res.text()}`);
        const messages: Delivered[] = [];
        const body = res.body;
        if (body === null) throw new Error(`subscribe ${subject}: no body`);
        // Reads until the stream ends or is aborted (no timers to outlive the test).
        const reading = (async () => {
          let pending = '';
          const decoder = new TextDecoder();
          for await (const chunk of body) {
            pending += decoder.decode(chunk, { stream: true });
            for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
              const line = pending.slice(0, end);
              pending = pending.slice(end + 1);
              if (line === '') continue;
              const e = JSON.parse(line) as { subject: string; data_base64: string; headers?: Record<string, string[]> };
              const headers: Array<[string, string]> = [];
              for (const [k, values] of Object.entries(e.headers ?? {})) for (const v of values) headers.push([k, v]);
              messages.push({ subject: e.subject, payload: Buffer.from(e.data_base64, 'base64'), headers });
            }
          }
        })().catch((error: unknown) => {
          if (!abort.signal.aborted) throw error;
        });
        const unsubscribe = async (): Promise<void> => {
          abort.abort();
          await reading;
        };
        open.push(unsubscribe);
        return collected(messages, unsubscribe);
      },
      async dispose() {
        for (const unsubscribe of open) await unsubscribe();
        await pub.close();
        await f.stop();
      },
    };
  },
  { queue: true, headers: true },
);

describeSubscriber(
  'jetstream stream capture',
  async () => {
    const core = await startSwitchboardJetStream();
    const pub = await connect({ servers: core.url });
    const jsm: JetStreamManager = await jetstreamManager(pub);
    let streams = 0;
    return {
      publish: publisherOn(pub),
      async subscribe(subject) {
        const name = `SC_${++streams}`;
        await jsm.streams.add({ name, subjects: [subject] });
        return {
          count: async () => (await jsm.streams.info(name)).state.messages,
          async messages() {
            const out: Delivered[] = [];
            const { first_seq, last_seq, messages } = (await jsm.streams.info(name)).state;
            for (let seq = first_seq; messages > 0 && seq <= last_seq; seq++) {
              const m = await jsm.streams.getMessage(name, { seq });
              if (m !== null) out.push({ subject: m.subject, payload: Buffer.from(m.data), headers: pairsOf(m.header) });
            }
            return out;
          },
          // A stream stops capturing a subject once its configuration no longer lists it.
          unsubscribe: async () => void (await jsm.streams.update(name, { subjects: [`retired.${name}`] })),
        };
      },
      async dispose() {
        await pub.close();
        await core.stop();
      },
    };
  },
  { queue: false, headers: true },
);

describeSubscriber(
  'kafka bridge nats-to-kafka',
  async () => {
    const f = await startKafkaFixture();
    let mappings = 0;
    return {
      publish: publisherOn(f.nc),
      async subscribe(subject, queue) {
        const name = `sc-${++mappings}`;
        const topic = `subscriber-contract-${name}`;
        // The subject as the key: Kafka keeps order per key, and kcat shows which subject it was.
        const bridge = f.bridge([{ name, direction: 'nats-to-kafka', subject, ...(queue === undefined ? {} : { queue }), topic, key: '{subject}' }]);
        await bridge.start();
        await waitForRunning(bridge);
        const count = (): number => bridge.metrics().mappings[0].messages;
        return {
          count: async () => count(),
          async messages() {
            const n = count();
            if (n === 0) return [];
            return kcatConsume(f.mock.bootstrap, topic, n).map((r) => ({
              subject: r.key ?? '',
              // A tombstone (null value) is not an empty message: keep them apart.
              payload: r.payload === null ? Buffer.from('<null value>') : Buffer.from(r.payload, 'utf8'),
              headers: r.headers,
            }));
          },
          unsubscribe: () => bridge.stop(),
        };
      },
      dispose: () => f.stop(),
    };
  },
  { queue: true, headers: true },
  ['kcat'],
);

describe('subscriber - a wildcard subscriber next to the MQTT gateway', () => {
  // Found while writing these suites: without JetStream, a core subscriber on `>` (say `nats sub '>'`)
  // also received the MQTT gateway's `$JS.API.STREAM.LIST` request and never answered it, so once the
  // stream list was stale (any stream advisory, or its 30 s TTL) every QoS 1/2 publish waited for the
  // 5 s API timeout and then failed. The Broker now says whether the server runs JetStream (as
  // nats-server's INFO does), and the JetStream client asks nothing of a server without it.
  it('mqtt - a QoS 1 publish is acknowledged promptly while a NATS client subscribes to >', async () => {
    const sb = await startSwitchboardMqtt();
    const nc = await connect({ servers: sb.natsUrl });
    const mqtt = await connectMqtt(sb.mqttUrl, { protocolVersion: 4 });
    try {
      nc.subscribe('>', { callback: () => {} });
      // A stream advisory makes the gateway read the stream list again before its next QoS 1/2 publish.
      nc.publish('$JS.EVENT.ADVISORY.STREAM.CREATED.ELSEWHERE');
      await nc.flush();
      const started = Date.now();
      const acknowledged = await Promise.race([mqtt.publishAsync('t/x', 'hello', { qos: 1 }).then(() => true), sleep(2_000).then(() => false)]);
      assert.ok(acknowledged, `no PUBACK within ${Date.now() - started} ms`);
    } finally {
      mqtt.end(true);
      await nc.close();
      await sb.stop();
    }
  });
});
