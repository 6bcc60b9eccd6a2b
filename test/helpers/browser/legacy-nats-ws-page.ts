// The older browser client, nats.ws 1.30 (the predecessor of wsconnect()), on
// the same gateway: the issue promises both work unchanged. Only what a legacy
// web app does most: connect, subscribe, publish, request.

import { connect, type NatsConnection } from 'nats.ws';

export interface LegacyNatsPageApi {
  connect(url: string): Promise<string>;
  subscribe(subject: string): Promise<void>;
  received(): string[];
  publish(subject: string, data: string): Promise<void>;
  request(subject: string, data: string, timeoutMs: number): Promise<string>;
  close(): Promise<void>;
}

declare global {
  interface Window {
    legacyNats: LegacyNatsPageApi;
  }
}

const lines: string[] = [];
let nc: NatsConnection | null = null;
const encoder = new TextEncoder();

function connection(): NatsConnection {
  if (nc === null) throw new Error('legacyNats.connect() first');
  return nc;
}

window.legacyNats = {
  async connect(url) {
    nc = await connect({ servers: url, maxReconnectAttempts: 0 });
    return nc.info?.server_id ?? '';
  },
  async subscribe(subject) {
    connection().subscribe(subject, { callback: (_err, msg) => void lines.push(`${msg.subject}|${msg.string()}`) });
    await connection().flush();
  },
  received() {
    return [...lines];
  },
  async publish(subject, data) {
    connection().publish(subject, encoder.encode(data));
    await connection().flush();
  },
  async request(subject, data, timeoutMs) {
    return (await connection().request(subject, encoder.encode(data), { timeout: timeoutMs })).string();
  },
  async close() {
    await nc?.close();
    nc = null;
  },
};
