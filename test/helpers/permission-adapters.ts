// Each protocol's PermissionAdapter (test/helpers/permission-table.ts): how a
// user connects, publishes and subscribes over that protocol, and how the
// server says no. Every adapter checks the refusal exactly as the protocol
// states it, so the table proves the wire behaviour, not only a yes or no:
// - NATS (TCP or WebSocket): `-ERR 'Permissions Violation for ...'`, connection kept;
// - MQTT 3.1.1: SUBACK 0x80; a refused PUBLISH is acknowledged and dropped [MQTT-3.3.5-2];
// - MQTT 5: SUBACK 0x87, PUBACK 0x87 (Not authorized);
// - HTTP: 403 problem JSON, code `permission_denied`, naming the subject.
// Gateways map their topics and paths to subjects before asking the Authorizer,
// so each adapter maps the table's subject the gateway's way.

import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { filterToSubjects, subjectToTopic } from '../../gateways/mqtt/topic-mapping.ts';
import { connectMqtt, sleep } from './mqtt.ts';
import { PASSWORDS, type PermissionAdapter, type PermissionSession, type TableUser } from './permission-table.ts';
import { RawClient } from './raw-client.ts';
import { RawWebSocket } from './websocket-clients.ts';

/** A NATS protocol connection as text: send, then PING, and get what came before the PONG. */
export interface NatsTextPipe {
  roundTrip(data: string): Promise<string>;
  close(): void;
}

export function natsOverTcp(port: number): Promise<NatsTextPipe> {
  return RawClient.connect(port);
}

/** NATS over WebSocket, past the INFO line. */
export async function natsOverWebSocket(url: string): Promise<NatsTextPipe> {
  const ws = await RawWebSocket.open(url);
  let read = (await ws.until((text) => text.includes('\r\n'))).indexOf('\r\n') + 2;
  return {
    async roundTrip(data) {
      ws.frame(`${data}PING\r\n`);
      const text = await ws.until((t) => t.indexOf('PONG\r\n', read) >= 0);
      const end = text.indexOf('PONG\r\n', read);
      const before = text.slice(read, end);
      read = end + 'PONG\r\n'.length;
      return before;
    },
    close: () => ws.close(),
  };
}

function connectLine(user: TableUser): string {
  const credentials = user === 'guest' ? {} : { user, pass: PASSWORDS[user] };
  // echo off: a user that publishes where it subscribed must not see its own message here.
  return `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, echo: false, ...credentials })}\r\n`;
}

/** The NATS protocol's entry in the permission table, checking the exact -ERR texts. */
export function natsAdapter(protocol: string, open: () => Promise<NatsTextPipe>): PermissionAdapter {
  return {
    protocol,
    async connectAs(user) {
      const c = await open();
      assert.equal(await c.roundTrip(connectLine(user)), '', `connect as ${user}`);
      let sid = 0;
      const session: PermissionSession = {
        async publish(subject) {
          const got = await c.roundTrip(`PUB ${subject} 0\r\n\r\n`);
          if (got === '') return true;
          assert.equal(got, `-ERR 'Permissions Violation for Publish to "${subject}"'\r\n`);
          return false;
        },
        async subscribe(subject, queue) {
          const got = await c.roundTrip(`SUB ${subject}${queue ? ` ${queue}` : ''} ${++sid}\r\n`);
          if (got === '') return true;
          const expected = queue
            ? `-ERR 'Permissions Violation for Subscription to "${subject}" using queue "${queue}"'\r\n`
            : `-ERR 'Permissions Violation for Subscription to "${subject}"'\r\n`;
          assert.equal(got, expected);
          return false;
        },
        close: () => c.close(),
      };
      return session;
    },
  };
}

/** Sees what reaches subscribers, past any permission (an in-process subscription on `>`). */
export interface PublishObserver {
  /** True once a message with this payload was delivered; waits at most `timeoutMs`. */
  delivered(payload: string, timeoutMs: number): Promise<boolean>;
}

/**
 * The MQTT filter that means exactly `subject`: `*` is `+`; a trailing `>`
 * becomes `+/#`, because `#` alone would also cover the parent level (so
 * `data/#` needs `data` granted too, as in nats-server), while `+/#` maps to
 * `x.*.>` and `x.*`, which together are `x.>`.
 */
export function subjectToFilter(subject: string): string {
  const filter = subject
    .split('.')
    .map((token) => (token === '*' ? '+' : token === '>' ? '+/#' : subjectToTopic(token)))
    .join('/');
  if (subject.endsWith('>')) assert.deepEqual(filterToSubjects(filter), [`${subject.slice(0, -1)}*.>`, `${subject.slice(0, -1)}*`]);
  return filter;
}

let published = 0;

/** MQTT 3.1.1 (4) or 5 through mqtt.js, over TCP (`mqtt://`) or WebSocket (`ws://.../mqtt`). */
export function mqttAdapter(protocol: string, url: string, protocolVersion: 4 | 5, observer: PublishObserver): PermissionAdapter {
  const refusal = protocolVersion === 5 ? 0x87 : 0x80;
  return {
    protocol,
    async connectAs(user) {
      const credentials = user === 'guest' ? {} : { username: user, password: PASSWORDS[user] };
      const client: MqttClient = await connectMqtt(url, { protocolVersion, clientId: `perm-${protocol}-${user}`.replace(/\W/g, '-'), ...credentials });
      return {
        async publish(subject) {
          const payload = `${protocol} ${++published}`;
          let acknowledged = true;
          try {
            await client.publishAsync(subjectToTopic(subject), payload, { qos: 1 });
          } catch (error) {
            // mqtt.js turns a PUBACK reason code >= 0x80 into an error carrying it.
            assert.equal((error as { code?: number }).code, 0x87, `PUBACK for ${subject}`);
            acknowledged = false;
          }
          // The gateway publishes before it acknowledges, so a message that was let through has
          // reached the (in-process) observer by now; MQTT 3.1.1 acknowledges either way.
          const delivered = await observer.delivered(payload, 50);
          if (protocolVersion === 5) assert.equal(delivered, acknowledged, `PUBACK and delivery agree for ${subject}`);
          else assert.ok(acknowledged, 'MQTT 3.1.1 acknowledges a refused publish and drops it [MQTT-3.3.5-2]');
          return delivered;
        },
        async subscribe(subject, queue) {
          const filter = subjectToFilter(subject);
          try {
            await client.subscribeAsync(queue === undefined ? filter : `$share/${queue}/${filter}`, { qos: 1 });
            return true;
          } catch (error) {
            // mqtt.js rejects a SUBACK holding a failure code, with the packet.
            assert.deepEqual((error as { packet?: { granted?: number[] } }).packet?.granted, [refusal], `SUBACK for ${subject}`);
            return false;
          }
        },
        close: () => void client.end(true),
      };
    },
  };
}

/** The HTTP gateway: Basic credentials; POST publishes, GET (SSE) subscribes. */
export function httpAdapter(base: string): PermissionAdapter {
  return {
    protocol: 'http',
    async connectAs(user) {
      const headers: Record<string, string> = user === 'guest' ? {} : { authorization: `Basic ${Buffer.from(`${user}:${PASSWORDS[user]}`).toString('base64')}` };
      const url = (subject: string): string => `${base}/v1/subjects/${encodeURIComponent(subject)}`;
      async function refused(res: Response, subject: string): Promise<false> {
        assert.equal(res.status, 403, `status for ${subject}`);
        assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        const problem = (await res.json()) as { code: string; subject: string };
        assert.equal(problem.code, 'permission_denied');
        assert.equal(problem.subject, subject);
        return false;
      }
      return {
        async publish(subject) {
          const res = await fetch(url(subject), { method: 'POST', headers, body: 'x' });
          if (res.status !== 202) return refused(res, subject);
          await res.body?.cancel();
          return true;
        },
        async subscribe(subject, queue) {
          const abort = new AbortController();
          const query = queue === undefined ? '' : `?queue=${encodeURIComponent(queue)}`;
          const res = await fetch(url(subject) + query, { headers, signal: abort.signal });
          if (res.status !== 200) return refused(res, subject);
          abort.abort();
          await sleep(0);
          return true;
        },
        close: () => {},
      };
    },
  };
}
