// Builds the protocol gateways and the Kafka connector on one Broker and
// starts/stops them in order. Default ports are best effort (a taken one is
// logged and skipped, as with monitoring); a port the operator asked for must bind.

import type { Authorizer } from '../core/auth/authorizer.ts';
import type { Broker } from '../core/broker/broker.ts';
import type { Logger } from '../core/server/logger.ts';
import type { MonitorExtension } from '../core/server/monitoring/monitor-context.ts';
import { createKafkaBridge, type KafkaBridge } from '../connectors/kafka/kafka-bridge.ts';
import { kafkaBridgePrometheus } from '../connectors/kafka/metrics-text.ts';
import type { GatewaysConfig, ListenerSection } from './gateway-config.ts';
import { createHttpGateway, type HttpGateway } from './http/http-gateway.ts';
import type { MonitoringMount } from './http/routes/monitoring.ts';
import { createMqttGateway, type MqttGateway } from './mqtt/gateway.ts';
import { createWebSocketGateway, type ConnectionAcceptor, type WebSocketGateway } from './websocket/websocket-gateway.ts';

export interface GatewayDeps {
  broker: Broker;
  /** Serves NATS over WebSocket: the embedded NatsServer, or a relay to the cluster. */
  nats: ConnectionAcceptor;
  authorizer: Authorizer;
  /** The MQTT gateway's name, unique per gateway of a cluster (default 'mqtt'). */
  name?: string;
  /** With JetStream, MQTT sessions and retained messages live in streams. */
  jetstream: boolean;
  maxPayload: number;
  logger: Logger;
}

export interface Gateways {
  readonly mqtt: MqttGateway | null;
  readonly http: HttpGateway | null;
  readonly websocket: WebSocketGateway | null;
  readonly kafka: KafkaBridge | null;
  /** What the gateways add to the core's monitor (the Kafka bridge's /kafkaz); the HTTP gateway serves it too. */
  readonly monitorExtensions: readonly MonitorExtension[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

function addressInUse(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
  }
  return false;
}

/** The Kafka bridge's figures as a monitor extension (core/server cannot import connectors): /kafkaz, and its series in /metrics. */
function kafkaBridgeMonitor(bridge: KafkaBridge): MonitorExtension {
  return {
    path: '/kafkaz',
    json: () => ({ now: new Date().toISOString(), ...bridge.metrics() }),
    prometheus: () => kafkaBridgePrometheus(bridge.metrics()),
  };
}

/** The same extensions on the HTTP gateway (behind its auth): /v1/monitor/<name> and /metrics. In cluster mode there is no monitoring port. */
function httpMonitoring(extensions: readonly MonitorExtension[]): MonitoringMount | undefined {
  if (extensions.length === 0) return undefined;
  return {
    endpoints: Object.fromEntries(extensions.map((extension) => [extension.path.slice(1), () => extension.json()])),
    metrics: () => extensions.map((extension) => extension.prometheus()).join(''),
  };
}

export function createGateways(config: GatewaysConfig, deps: GatewayDeps): Gateways {
  const { broker, authorizer, logger } = deps;
  const mqtt = config.mqtt.enabled
    ? createMqttGateway({ broker, authorizer, name: deps.name, host: config.mqtt.host, port: config.mqtt.port, persistence: deps.jetstream ? 'jetstream' : 'memory' })
    : null;
  // kafkajs's log lines go to the server's logger, tagged with kafkajs's namespace.
  const kafka =
    config.kafka === null
      ? null
      : createKafkaBridge({ broker, kafka: config.kafka.kafka, mappings: config.kafka.mappings, logger: (entry) => logger[entry.level]({ kafkajs: entry.namespace, ...entry.extra }, entry.message) });
  const monitorExtensions = kafka === null ? [] : [kafkaBridgeMonitor(kafka)];
  const http = config.http.enabled
    ? createHttpGateway({
        broker,
        authorizer,
        host: config.http.host,
        port: config.http.port,
        maxPayload: deps.maxPayload,
        monitoring: httpMonitoring(monitorExtensions),
      })
    : null;
  const websocket = config.websocket.enabled
    ? createWebSocketGateway({
        nats: deps.nats,
        mqtt: mqtt ?? undefined,
        host: config.websocket.host,
        port: config.websocket.port,
        allowedOrigins: config.websocket.allowedOrigins,
        sameOrigin: config.websocket.sameOrigin,
        compression: config.websocket.compression,
      })
    : null;
  const started: Array<{ stop(): Promise<void> }> = [];

  async function startListener(name: string, section: ListenerSection, gateway: { start(): Promise<void>; stop(): Promise<void>; port: number } | null): Promise<void> {
    if (gateway === null) return;
    try {
      await gateway.start();
    } catch (error) {
      if (section.required || !addressInUse(error)) throw error;
      logger.warn({ host: section.host, port: section.port }, `default ${name} port in use: running without it (set its port to require one)`);
      return;
    }
    started.push(gateway);
    logger.info({ host: section.host, port: gateway.port }, `${name} listening on ${section.host}:${gateway.port}`);
  }

  return {
    mqtt,
    http,
    websocket,
    kafka,
    monitorExtensions,
    async start() {
      await startListener('MQTT', config.mqtt, mqtt);
      await startListener('HTTP gateway', config.http, http);
      await startListener('WebSocket', config.websocket, websocket);
      if (kafka !== null) {
        // A Kafka outage never stops the server: the bridge retries on its own.
        await kafka.start();
        started.push(kafka);
        const { kafkajsSpeedups } = kafka.metrics();
        logger.info({ brokers: config.kafka?.kafka.brokers, kafkajsSpeedups }, 'Kafka bridge started');
        if (kafkajsSpeedups !== 'active') logger.warn({ kafkajsSpeedups }, 'kafkajs runs as shipped: its produce path is about 5x slower per record');
      }
    },
    async stop() {
      for (const gateway of started.reverse()) {
        try {
          await gateway.stop();
        } catch (error) {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'gateway stop failed');
        }
      }
      started.length = 0;
    },
  };
}
