// Durable pull consumers over HTTP:
//   POST   /v1/streams/{name}/consumers                         create (201)
//   GET    /v1/streams/{name}/consumers                         list
//   GET    /v1/streams/{name}/consumers/{consumer}              info
//   DELETE /v1/streams/{name}/consumers/{consumer}              delete (204)
//   POST   /v1/streams/{name}/consumers/{consumer}/fetch        a batch; long-poll up to ?timeout=ms
//   POST   /v1/streams/{name}/consumers/{consumer}/ack/{token}  ack (also nak?delay=ms, term, progress)
// Each fetched message carries `ack_token` (its ack subject). An ack token is only
// accepted on the route of the stream and consumer it names, and publishing it
// needs the same permission a NATS client would need for that ack subject.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BrokerMessage } from '../../../core/broker/broker.ts';
import { requirePublish } from '../auth.ts';
import { parseAckReply, type AckReply } from '../../../core/jetstream-client/ack-reply.ts';
import type { ConsumerConfigWire } from '../../../core/jetstream-client/jetstream-client.ts';
import { AckActions, PullConsumer, settleDelivery, type AckAction } from '../../../core/jetstream-client/pull-consumer.ts';
import type { GatewayContext } from '../context.ts';
import { encodePayload, type PayloadEncoding } from '../envelope.ts';
import { HttpProblem } from '../errors.ts';
import { natsHeadersToJson } from '../headers.ts';
import { rfc3339FromNanos } from '../../../core/jetstream-client/timestamp.ts';
import type { RouteDocSchema } from '../openapi.ts';
import { STREAM_NAME_PARAM } from './streams.ts';

const TAGS = ['consumers'];
const NAME = STREAM_NAME_PARAM.properties.name;
const CONSUMER_NAME = { type: 'string', pattern: '^[^.*>\\s/\\\\]+$', maxLength: 255 } as const;
const CONSUMER_PARAMS = { type: 'object', required: ['name', 'consumer'], properties: { name: NAME, consumer: CONSUMER_NAME } } as const;
const TOKEN_PARAMS = {
  type: 'object',
  required: ['name', 'consumer', 'token'],
  properties: { name: NAME, consumer: CONSUMER_NAME, token: { type: 'string', minLength: 1, description: 'The `ack_token` of a fetched message' } },
} as const;
const INFO = { type: 'object', additionalProperties: true, description: 'Consumer info as the JetStream API returns it' } as const;

const createSchema: RouteDocSchema = {
  operationId: 'createConsumer',
  summary: 'Create (or update) a durable pull consumer',
  description: 'The body is a JetStream consumer config with wire names (`durable_name`, `filter_subject`, `deliver_policy`, `ack_wait` in ns, `max_deliver`, ...). `ack_policy` defaults to `explicit`.',
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  body: { type: 'object', required: ['durable_name'], additionalProperties: true, properties: { durable_name: CONSUMER_NAME, filter_subject: { type: 'string' }, ack_policy: { type: 'string', enum: ['explicit', 'all', 'none'] } } },
  response: { 201: { ...INFO, description: 'Created' } },
};
const listSchema: RouteDocSchema = {
  operationId: 'listConsumers',
  summary: "A stream's consumers",
  tags: TAGS,
  params: STREAM_NAME_PARAM,
  response: { 200: { description: 'Consumers', type: 'object', properties: { consumers: { type: 'array', items: INFO } } } },
};
const infoSchema: RouteDocSchema = { operationId: 'consumerInfo', summary: 'Consumer info', tags: TAGS, params: CONSUMER_PARAMS, response: { 200: { ...INFO, description: 'Info' } } };
const deleteSchema: RouteDocSchema = { operationId: 'deleteConsumer', summary: 'Delete a consumer', tags: TAGS, params: CONSUMER_PARAMS, response: { 204: { description: 'Deleted' } } };
const fetchSchema: RouteDocSchema = {
  operationId: 'fetchMessages',
  summary: 'Fetch a batch of messages (long-poll)',
  description: 'Waits up to `timeout` ms for up to `batch` messages (0 = only what is ready). Acknowledge each with its `ack_token`.',
  tags: TAGS,
  params: CONSUMER_PARAMS,
  querystring: {
    type: 'object',
    properties: {
      batch: { type: 'integer', minimum: 1, maximum: 1000, description: 'Default 10' },
      timeout: { type: 'integer', minimum: 0, maximum: 60_000, description: 'Long-poll ms (default 5000)' },
      encoding: { type: 'string', enum: ['auto', 'base64'] },
    },
    additionalProperties: false,
  },
  response: {
    200: {
      description: 'The batch (possibly empty)',
      type: 'object',
      properties: {
        messages: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              subject: { type: 'string' },
              seq: { type: 'integer' },
              time: { type: 'string', description: 'Store time, RFC 3339 UTC with nine fraction digits' },
              delivered: { type: 'integer' },
              pending: { type: 'integer' },
              ack_token: { type: 'string' },
              headers: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
              data: { type: 'string' },
              data_base64: { type: 'string' },
              size: { type: 'integer' },
            },
          },
        },
      },
    },
  },
};

function ackSchema(action: string, summary: string, extra?: RouteDocSchema['querystring']): RouteDocSchema {
  return {
    operationId: `${action}Message`,
    summary,
    tags: TAGS,
    params: TOKEN_PARAMS,
    ...(extra === undefined ? {} : { querystring: extra }),
    response: { 204: { description: 'Sent to the server' } },
  };
}

/** A long poll of one fetch request, each message with its parsed ack subject; the inbox lives as long as the request. */
async function fetchBatch(puller: PullConsumer, batch: number, timeoutMs: number): Promise<Array<{ message: BrokerMessage; ack: AckReply }>> {
  try {
    await puller.start();
    const messages = await puller.poll(batch, timeoutMs);
    return messages.flatMap((message) => {
      const ack = message.reply === null ? null : parseAckReply(message.reply);
      return ack === null ? [] : [{ message, ack }];
    });
  } finally {
    puller.stop();
  }
}

export async function consumerRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const js = ctx.jetstream;
  const api = (request: FastifyRequest, op: string, ...args: string[]): void => requirePublish(request.principal, ctx.jetstream.apiSubject(op, ...args));
  const ids = (request: FastifyRequest): { name: string; consumer: string; token: string } => request.params as { name: string; consumer: string; token: string };

  app.post('/v1/streams/:name/consumers', { schema: createSchema }, async (request, reply) => {
    const { name } = ids(request);
    const config = { ack_policy: 'explicit', ...(request.body as ConsumerConfigWire) };
    api(request, 'CONSUMER.CREATE', name, String(config.durable_name));
    return reply.code(201).send(await js.createConsumer(name, config));
  });

  app.get('/v1/streams/:name/consumers', { schema: listSchema }, async (request) => {
    api(request, 'CONSUMER.LIST', ids(request).name);
    return { consumers: await js.consumers(ids(request).name) };
  });

  app.get('/v1/streams/:name/consumers/:consumer', { schema: infoSchema }, async (request) => {
    const { name, consumer } = ids(request);
    api(request, 'CONSUMER.INFO', name, consumer);
    return js.consumerInfo(name, consumer);
  });

  app.delete('/v1/streams/:name/consumers/:consumer', { schema: deleteSchema }, async (request, reply) => {
    const { name, consumer } = ids(request);
    api(request, 'CONSUMER.DELETE', name, consumer);
    await js.deleteConsumer(name, consumer);
    return reply.code(204).send();
  });

  app.post('/v1/streams/:name/consumers/:consumer/fetch', { schema: fetchSchema }, async (request) => {
    const { name, consumer } = ids(request);
    api(request, 'CONSUMER.MSG.NEXT', name, consumer);
    const query = request.query as { batch?: number; timeout?: number; encoding?: PayloadEncoding };
    await js.consumerInfo(name, consumer); // 404 (or 503 without JetStream) before waiting
    const batch = await fetchBatch(new PullConsumer(ctx.broker, js, name, consumer), query.batch ?? 10, query.timeout ?? 5_000);
    return {
      messages: batch.map(({ message, ack }) => {
        const headers = natsHeadersToJson(message.headers);
        return {
          subject: message.subject,
          seq: ack.streamSeq,
          time: rfc3339FromNanos(ack.timestampNanos),
          delivered: ack.delivered,
          pending: ack.pending,
          ack_token: ack.subject,
          ...(headers === undefined ? {} : { headers }),
          ...encodePayload(message.data, query.encoding ?? 'auto'),
          size: message.data.byteLength,
        };
      }),
    };
  });

  const acknowledge = async (request: FastifyRequest, action: AckAction): Promise<void> => {
    const { name, consumer, token } = ids(request);
    const ack = parseAckReply(token);
    if (ack === null || ack.stream !== name || ack.consumer !== consumer) {
      throw new HttpProblem('invalid_request', `not an ack token of consumer ${JSON.stringify(consumer)} on stream ${JSON.stringify(name)}`, { stream: name, consumer });
    }
    requirePublish(request.principal, ack.subject);
    await settleDelivery(ctx.broker, ack.subject, action);
    await ctx.broker.flush();
  };
  const base = '/v1/streams/:name/consumers/:consumer';
  app.post(`${base}/ack/:token`, { schema: ackSchema('ack', 'Acknowledge a message') }, async (request, reply) => {
    await acknowledge(request, AckActions.ack);
    return reply.code(204).send();
  });
  app.post(
    `${base}/nak/:token`,
    { schema: ackSchema('nak', 'Negative-acknowledge: redeliver, optionally after a delay', { type: 'object', properties: { delay: { type: 'integer', minimum: 0, description: 'Redelivery delay, ms' } }, additionalProperties: false }) },
    async (request, reply) => {
      const { delay } = request.query as { delay?: number };
      await acknowledge(request, delay === undefined ? AckActions.nak : { kind: 'nak', delayMs: delay });
      return reply.code(204).send();
    },
  );
  app.post(`${base}/term/:token`, { schema: ackSchema('term', 'Terminate: never redeliver') }, async (request, reply) => {
    await acknowledge(request, AckActions.term);
    return reply.code(204).send();
  });
  app.post(`${base}/progress/:token`, { schema: ackSchema('progress', 'Work in progress: extend the ack deadline') }, async (request, reply) => {
    await acknowledge(request, AckActions.progress);
    return reply.code(204).send();
  });
}
