// The script of the browser test page, bundled by esbuild with the real
// @nats-io/nats-core client (test/helpers/browser/page-server.ts). It renders
// what it receives into the page and exposes a small API on `window` so the
// test drives it and reads back exactly the data the page received.

import { wsconnect, type NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';

export interface NatsPageApi {
  /** Connect to a WebSocket URL; resolves with the server id from INFO. */
  connect(url: string): Promise<string>;
  /** Try a connection that is expected to fail; resolves with the error text or 'connected'. */
  tryConnect(url: string): Promise<string>;
  /** Subscribe and record every message as `subject|header X-Seq|payload`. */
  subscribe(subject: string): Promise<void>;
  received(subject: string): string[];
  publish(subject: string, data: string): Promise<void>;
  request(subject: string, data: string, timeoutMs: number): Promise<string>;
  /** Create a stream on `subjects`; resolves with the stream's name from the server's answer. */
  addStream(name: string, subjects: string[]): Promise<string>;
  /** Publish with an acknowledgement; resolves with `stream:seq` from the PubAck. */
  jsPublish(subject: string, data: string, msgId: string): Promise<string>;
  /** Read a stored message back by sequence: `subject|data`. */
  jsGet(stream: string, seq: number): Promise<string>;
  /** Create (or open) a KV bucket and watch `key`; entries are recorded as `key=value@revision:op`. */
  kvWatch(bucket: string, key: string): Promise<void>;
  kvEntries(): string[];
  /** Put a value; resolves with the new revision. */
  kvPut(bucket: string, key: string, value: string): Promise<number>;
  close(): Promise<void>;
}

declare global {
  interface Window {
    natsPage: NatsPageApi;
  }
}

const received = new Map<string, string[]>();
const kvEntries: string[] = [];
let nc: NatsConnection | null = null;

function connection(): NatsConnection {
  if (nc === null) throw new Error('natsPage.connect() first');
  return nc;
}

function render(line: string): void {
  const item = document.createElement('li');
  item.textContent = line;
  document.getElementById('received')?.append(item);
}

window.natsPage = {
  async connect(url) {
    nc = await wsconnect({ servers: url, maxReconnectAttempts: 0 });
    document.getElementById('status')!.textContent = `connected to ${url}`;
    return nc.info?.server_id ?? '';
  },
  async tryConnect(url) {
    try {
      const other = await wsconnect({ servers: url, maxReconnectAttempts: 0, timeout: 2_000 });
      await other.close();
      return 'connected';
    } catch (error) {
      return String((error as Error).message || error);
    }
  },
  async subscribe(subject) {
    const list: string[] = [];
    received.set(subject, list);
    connection().subscribe(subject, {
      callback: (_err, msg) => {
        const line = `${msg.subject}|${msg.headers?.get('X-Seq') ?? ''}|${msg.string()}`;
        list.push(line);
        render(line);
      },
    });
    // The subscription is registered on the server once the flush round-trip ends.
    await connection().flush();
  },
  received(subject) {
    return [...(received.get(subject) ?? [])];
  },
  async publish(subject, data) {
    connection().publish(subject, data);
    await connection().flush();
  },
  async request(subject, data, timeoutMs) {
    const reply = await connection().request(subject, data, { timeout: timeoutMs });
    return reply.string();
  },
  async addStream(name, subjects) {
    const jsm = await jetstreamManager(connection());
    const info = await jsm.streams.add({ name, subjects });
    return info.config.name;
  },
  async jsPublish(subject, data, msgId) {
    const ack = await jetstream(connection()).publish(subject, data, { msgID: msgId });
    return `${ack.stream}:${ack.seq}${ack.duplicate ? ':duplicate' : ''}`;
  },
  async jsGet(stream, seq) {
    const jsm = await jetstreamManager(connection());
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg === null) return 'missing';
    return `${msg.subject}|${msg.string()}`;
  },
  async kvWatch(bucket, key) {
    const kv = await new Kvm(connection()).create(bucket);
    const watch = await kv.watch({ key });
    void (async () => {
      for await (const entry of watch) {
        const line = `${entry.key}=${entry.string()}@${entry.revision}:${entry.operation}`;
        kvEntries.push(line);
        render(line);
      }
    })();
  },
  kvEntries() {
    return [...kvEntries];
  },
  async kvPut(bucket, key, value) {
    const kv = await new Kvm(connection()).open(bucket);
    return kv.put(key, value);
  },
  async close() {
    await nc?.close();
    nc = null;
  },
};
