// A JetStream API bridge between two servers, made of two real nats.js
// connections: what a leafnode link with a JetStream domain carries, for tests
// of `external: {api, deliver}` sourcing before that link exists.
//   - requests on `<prefix>.>` at the destination go to `$JS.API.>` at the
//     origin, and their answers come back;
//   - a consumer create request names a deliver subject: the relay subscribes
//     to it at the origin, literally (nats-server starts a push consumer only
//     for interest in its exact deliver subject, as a leafnode propagates it),
//     and hands its messages, status headers and reply subjects included, to
//     the destination's router for that deliver subject under their stored
//     subject: what a server does with a message that crossed a link with
//     `$JS.ACK....@<deliver>` as its reply (nats-server client.go), which a
//     client's publish cannot express;
//   - flow-control answers (`$JS.FC.>`) go back to the origin.
// `stop()` cuts the link (both connections close); a new relay restores it.

import { connect, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Router } from '../../core/server/router.ts';

export interface JsApiRelay {
  /** Messages carried origin → destination on deliver subjects (data and status). */
  readonly carried: () => number;
  stop(): Promise<void>;
}

/** Bridge `prefix` (e.g. `$JS.hub.API`) at `destUrl` (whose router is `destRouter`) to the JetStream API at `originUrl`. */
export async function startJsApiRelay(destUrl: string, destRouter: Router, originUrl: string, prefix: string): Promise<JsApiRelay> {
  const dest = await connect({ servers: destUrl, name: 'relay-dest' });
  const origin = await connect({ servers: originUrl, name: 'relay-origin' });
  const delivers = new Map<string, Subscription>();
  let carried = 0;

  const forwardDeliver = (subject: string): void => {
    if (delivers.has(subject)) return;
    delivers.set(
      subject,
      origin.subscribe(subject, {
        callback: (_err, m) => {
          carried++;
          const header = m.headers === undefined ? null : Buffer.from((m.headers as unknown as { encode(): Uint8Array }).encode());
          const message = header === null ? Buffer.from(m.data) : Buffer.concat([header, m.data]);
          destRouter.deliverAs(subject, m.subject, m.reply === '' || m.reply === undefined ? null : m.reply, header === null ? -1 : header.length, message, null);
        },
      }),
    );
  };

  dest.subscribe(`${prefix}.>`, {
    callback: (_err, m: Msg) => {
      const op = m.subject.slice(prefix.length);
      if (op.startsWith('.CONSUMER.CREATE.')) {
        const deliver = (JSON.parse(m.string()) as { config?: { deliver_subject?: string } }).config?.deliver_subject;
        if (deliver !== undefined) forwardDeliver(deliver);
      }
      if (m.reply === undefined || m.reply === '') {
        origin.publish(`$JS.API${op}`, m.data, { headers: m.headers });
        return;
      }
      const reply = m.reply;
      origin.request(`$JS.API${op}`, m.data, { timeout: 5000, headers: m.headers }).then(
        (answer) => dest.publish(reply, answer.data, { headers: answer.headers }),
        () => {},
      );
    },
  });
  dest.subscribe('$JS.FC.>', { callback: (_err, m) => origin.publish(m.subject, m.data, { headers: m.headers }) });
  await Promise.all([dest.flush(), origin.flush()]);

  const closeQuietly = (nc: NatsConnection): Promise<void> => nc.close().catch(() => {});
  return {
    carried: () => carried,
    async stop() {
      await Promise.all([closeQuietly(dest), closeQuietly(origin)]);
    },
  };
}
