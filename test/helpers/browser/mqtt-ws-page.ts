// The script of the MQTT browser test page: mqtt.js (its browser build, which
// esbuild picks through the package's `browser` export) over the WebSocket
// gateway's `/mqtt` endpoint. Same shape as nats-ws-page.ts: it renders what
// it receives and exposes an API on `window` for the test to drive.

import mqtt, { type MqttClient } from 'mqtt';

export interface MqttPageApi {
  /** Connect to `ws://host:port/mqtt`; resolves with the negotiated protocol version. */
  connect(url: string, clientId: string): Promise<number>;
  subscribe(filter: string, qos: 0 | 1): Promise<void>;
  /** Every message as `topic|payload`. */
  received(): string[];
  publish(topic: string, payload: string, qos: 0 | 1): Promise<void>;
  close(): Promise<void>;
}

declare global {
  interface Window {
    mqttPage: MqttPageApi;
  }
}

const received: string[] = [];
let client: MqttClient | null = null;

function current(): MqttClient {
  if (client === null) throw new Error('mqttPage.connect() first');
  return client;
}

window.mqttPage = {
  connect(url, clientId) {
    return new Promise((resolve, reject) => {
      const c = mqtt.connect(url, { clientId, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000 });
      client = c;
      c.on('message', (topic, payload) => {
        const line = `${topic}|${new TextDecoder().decode(payload)}`;
        received.push(line);
        const item = document.createElement('li');
        item.textContent = line;
        document.getElementById('received')?.append(item);
      });
      c.once('connect', () => {
        document.getElementById('status')!.textContent = `connected to ${url}`;
        resolve(c.options.protocolVersion ?? 0);
      });
      c.once('error', (error) => reject(new Error(error.message)));
    });
  },
  async subscribe(filter, qos) {
    await current().subscribeAsync(filter, { qos });
  },
  received() {
    return [...received];
  },
  async publish(topic, payload, qos) {
    await current().publishAsync(topic, payload, { qos });
  },
  async close() {
    await client?.endAsync();
    client = null;
  },
};
