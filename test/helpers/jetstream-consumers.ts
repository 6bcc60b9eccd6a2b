// Helpers for the consumer interop suites: a per-target setup (server, client,
// managers) and a raw pull request that collects exactly what the server sends
// to the inbox, status messages included, so both servers can be compared.

import { connect, createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { JetStreamServer, JetStreamTarget } from './jetstream.ts';

export interface ConsumerFixture {
  server: JetStreamServer;
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
  close(): Promise<void>;
}

export async function openFixture(target: JetStreamTarget): Promise<ConsumerFixture> {
  const server = await target.start();
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  return {
    server,
    nc,
    jsm,
    js: jetstream(nc),
    async close() {
      await nc.close();
      await server.stop();
    },
  };
}

export interface RawDelivery {
  subject: string;
  reply: string;
  /** 0 for a data message. */
  status: number;
  description: string;
  headers: Record<string, string>;
  data: string;
}

export function toRaw(m: Msg): RawDelivery {
  const h: Record<string, string> = {};
  if (m.headers) for (const [k, v] of m.headers) h[k] = v[0];
  return { subject: m.subject, reply: m.reply ?? '', status: m.headers?.code ?? 0, description: m.headers?.description ?? '', headers: h, data: m.string() };
}

/** Send one MSG.NEXT request and gather deliveries until `until` says stop or `windowMs` passes. */
export async function rawPull(nc: NatsConnection, stream: string, consumer: string, request: unknown, windowMs: number, until: (got: RawDelivery[]) => boolean = () => false): Promise<RawDelivery[]> {
  const inbox = createInbox();
  const got: RawDelivery[] = [];
  const sub = nc.subscribe(inbox);
  const done = (async () => {
    for await (const m of sub) {
      got.push(toRaw(m));
      if (until(got)) break;
    }
  })();
  const timer = setTimeout(() => sub.unsubscribe(), windowMs);
  nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, typeof request === 'string' ? request : JSON.stringify(request), { reply: inbox });
  await done;
  clearTimeout(timer);
  sub.unsubscribe();
  return got;
}

export async function rawApi(nc: NatsConnection, subject: string, body: unknown): Promise<Record<string, any>> {
  const m = await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 2000 });
  return JSON.parse(m.string()) as Record<string, any>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it holds or `timeoutMs` passes (bounded). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
