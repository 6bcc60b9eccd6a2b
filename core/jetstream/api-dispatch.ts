// $JS.API requests: the route is picked from the subject tokens after
// `$JS.API.` (longest operation first, at most three tokens: CONSUMER.MSG.NEXT),
// the request checked as nats-server checks it, and the answer (or the error,
// with the route's response type) handed back to the engine, which sends it
// with its turn, after the writes it reports on.

import { JetStreamApiError } from '../protocol/jetstream-api-error.ts';
import { JS_API_PREFIX } from '../protocol/jetstream-wire.ts';
import { consumerControlRoutes } from './api-consumer-control.ts';
import { consumerRoutes } from './api-consumer.ts';
import { directRoutes } from './api-direct.ts';
import { infoRoutes } from './api-info.ts';
import { msgRoutes } from './api-msg.ts';
import type { ApiAnswer, ApiReply, ApiRequest, ApiRoute } from './api-route.ts';
import { streamRoutes } from './api-stream.ts';
import { JsError } from './errors.ts';
import type { JetStreamEngine } from './jetstream-engine.ts';
import { checkRequiredApiLevel } from './required-api-level.ts';
import { checkStrictRequest } from './strict-request.ts';

/** `$JS.API.`: the API subjects' common start, with its dot. */
export const API_SUBJECT_START = `${JS_API_PREFIX}.`;

export interface JetStreamStats {
  apiTotal: number;
  apiErrors: number;
}

/** Sends one message of an answer to the requester's reply subject. */
export type AnswerSender = (to: string, header: Buffer | null, payload: Buffer) => void;

export class ApiDispatch {
  readonly stats: JetStreamStats = { apiTotal: 0, apiErrors: 0 };
  private readonly routes = new Map<string, ApiRoute>();

  /** `strict`: refuse request fields nats-server does not know (its jetstream `strict`, on by default). */
  constructor(private readonly engine: JetStreamEngine, private readonly strict: boolean, private readonly send: AnswerSender) {
    for (const route of [...infoRoutes, ...streamRoutes, ...msgRoutes, ...directRoutes, ...consumerRoutes, ...consumerControlRoutes]) this.routes.set(route.op, route);
  }

  handle(subject: string, reply: string | null, headerSize: number, message: Buffer): void {
    const tokens = subject.slice(API_SUBJECT_START.length).split('.');
    let route: ApiRoute | undefined;
    let used = 0;
    for (let n = Math.min(3, tokens.length); n >= 1 && route === undefined; n--) {
      route = this.routes.get(tokens.slice(0, n).join('.'));
      used = n;
    }
    // Unknown API subjects get no answer, as with nats-server (no handler subscribed).
    if (route === undefined || reply === null) return;
    this.stats.apiTotal++;
    const request: ApiRequest = {
      subject,
      args: tokens.slice(used),
      header: headerSize > 0 ? message.subarray(0, headerSize) : null,
      body: message.subarray(headerSize > 0 ? headerSize : 0),
    };
    let answer: ApiReply;
    try {
      // nats-server 2.12 strict mode (on unless `strict: false`): unknown request fields are refused.
      // ADR-44 (direct get answers with a status line instead, in its own route).
      if (route.type !== 'direct') checkRequiredApiLevel(request.header);
      if (this.strict) checkStrictRequest(route.op, request.body);
      answer = route.handle(this.engine, request);
    } catch (err) {
      answer = this.failed(route, err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamGeneral, err instanceof Error ? err.message : String(err), { cause: err }));
    }
    if (answer.kind === 'async') {
      answer.done.then(
        (late) => this.reply(reply, late, route),
        (err: unknown) => this.reply(reply, this.failed(route, err instanceof JetStreamApiError ? err : JetStreamApiError.of(JsError.StreamGeneral, String(err), { cause: err })), route),
      );
      return;
    }
    this.reply(reply, answer, route);
  }

  /** The error answer, counted: nats-server answers with the route's type and its error extras (e.g. purged: 0). */
  private failed(route: ApiRoute, error: JetStreamApiError): ApiAnswer {
    this.stats.apiErrors++;
    return { kind: 'json', body: { type: route.type, error: error.toWire(), ...route.errorExtras } };
  }

  private reply(to: string, answer: ApiAnswer, route: ApiRoute): void {
    if (answer.kind === 'raw') {
      for (const m of answer.messages) this.send(to, m.header, m.data);
      return;
    }
    const body = 'type' in answer.body ? answer.body : { type: route.type, ...answer.body };
    this.send(to, null, Buffer.from(JSON.stringify(body)));
  }
}
