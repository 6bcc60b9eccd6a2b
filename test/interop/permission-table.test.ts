// The shared permission table (test/helpers/permission-table.ts) over every
// protocol Switchboard serves, from one configuration: NATS, NATS over
// WebSocket, MQTT 3.1.1 and 5 over TCP and over WebSocket, and HTTP. One core
// with every gateway on the same Authorizer; each protocol refuses in its own
// words (see permission-adapters.ts). The table runs against nats-server in
// test/differential/nats-auth.test.ts.

import { after, before } from 'node:test';
import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import type { BrokerSubscription } from '../../core/broker/broker.ts';
import { parseAuthorization } from '../../core/config/auth-options.ts';
import { createCore, type Core } from '../../core/create-core.ts';
import { createHttpGateway, type HttpGateway } from '../../gateways/http/http-gateway.ts';
import { createMqttGateway, type MqttGateway } from '../../gateways/mqtt/gateway.ts';
import { createWebSocketGateway, type WebSocketGateway } from '../../gateways/websocket/websocket-gateway.ts';
import { sleep } from '../helpers/mqtt.ts';
import { httpAdapter, mqttAdapter, natsAdapter, natsOverTcp, natsOverWebSocket, type PublishObserver } from '../helpers/permission-adapters.ts';
import { describePermissionTable, PERMISSION_CASES, permissionConfig } from '../helpers/permission-table.ts';

let core: Core;
let mqtt: MqttGateway;
let http: HttpGateway;
let websocket: WebSocketGateway;
let observed: BrokerSubscription[];
const seen = new Set<string>();

const observer: PublishObserver = {
  async delivered(payload, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!seen.has(payload) && Date.now() < deadline) await sleep(5);
    return seen.has(payload);
  },
};

before(async () => {
  const config = permissionConfig();
  const authorizer = createAuthorizer(parseAuthorization(config.authorization, config.no_auth_user));
  core = createCore({ server: { host: '127.0.0.1', port: 0 }, authorizer });
  await core.start();
  const broker = core.broker;
  // The table's publish subjects only: a subscription on `>` would also answer the
  // gateways' `$JS.API` requests (there is no JetStream here) by never replying.
  const subjects = new Set(PERMISSION_CASES.filter((c) => c.action === 'publish').map((c) => c.subject));
  observed = await Promise.all([...subjects].map((subject) => broker.subscribe(subject, (m) => void seen.add(Buffer.from(m.data).toString()))));
  mqtt = createMqttGateway({ broker, authorizer, host: '127.0.0.1', port: 0 });
  await mqtt.start();
  http = createHttpGateway({ broker, authorizer, host: '127.0.0.1', port: 0, heartbeatMs: 0 });
  await http.start();
  websocket = createWebSocketGateway({ nats: core.nats, mqtt, host: '127.0.0.1', port: 0 });
  await websocket.start();
});

after(async () => {
  for (const sub of observed) sub.unsubscribe();
  await websocket.stop();
  await http.stop();
  await mqtt.stop();
  await core.stop();
});

describePermissionTable('nats', () => natsAdapter('nats', () => natsOverTcp(core.nats.port)));
describePermissionTable('nats over websocket', () => natsAdapter('nats-ws', () => natsOverWebSocket(websocket.url)));
describePermissionTable('mqtt 3.1.1', () => mqttAdapter('mqtt-3.1.1', `mqtt://127.0.0.1:${mqtt.port}`, 4, observer));
describePermissionTable('mqtt 5', () => mqttAdapter('mqtt-5', `mqtt://127.0.0.1:${mqtt.port}`, 5, observer));
describePermissionTable('mqtt 3.1.1 over websocket', () => mqttAdapter('mqtt-ws-3.1.1', `${websocket.url}/mqtt`, 4, observer));
describePermissionTable('mqtt 5 over websocket', () => mqttAdapter('mqtt-ws-5', `${websocket.url}/mqtt`, 5, observer));
describePermissionTable('http', () => httpAdapter(http.url));
