// One error table for the HTTP gateway (CONVENTIONS 5). Every failure leaves as
// an RFC 9457 problem document (`application/problem+json`) whose `code` is a
// stable, documented string clients may branch on; the status and title come
// from this table only, so two routes can never describe one error two ways.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  BrokerClosedError,
  InvalidSubjectError,
  NoRespondersError,
  RequestTimeoutError,
} from '../../core/broker/errors.ts';
import { JetStreamNotEnabledError } from '../../core/jetstream-client/jetstream-client.ts';
import { JetStreamApiCodes, JetStreamApiError } from '../../core/jetstream-client/jetstream-wire.ts';
import { KvError } from '../../core/jetstream-client/kv/kv-client.ts';
import { ObjectStoreError } from '../../core/jetstream-client/obj/object-store-client.ts';

export const HTTP_ERRORS = {
  invalid_request: { status: 400, title: 'The request does not match the route schema' },
  invalid_subject: { status: 400, title: 'The subject is not valid for this operation' },
  invalid_header: { status: 400, title: 'A header cannot be carried as a NATS header' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  credentials_in_url: { status: 400, title: 'Credentials are accepted only in the Authorization header' },
  unauthorized: { status: 401, title: 'Authentication is required or the credentials are wrong' },
  permission_denied: { status: 403, title: 'The principal may not use this subject' },
  not_found: { status: 404, title: 'No such route' },
  stream_not_found: { status: 404, title: 'The stream does not exist' },
  consumer_not_found: { status: 404, title: 'The consumer does not exist' },
  message_not_found: { status: 404, title: 'The stream has no such message' },
  bucket_not_found: { status: 404, title: 'The bucket does not exist' },
  key_not_found: { status: 404, title: 'The bucket has no such key' },
  object_not_found: { status: 404, title: 'The bucket has no such object' },
  endpoint_not_found: { status: 404, title: 'No such monitoring endpoint' },
  connection_not_found: { status: 404, title: 'No open connection has this id' },
  method_not_allowed: { status: 405, title: 'The route does not accept this method' },
  not_acceptable: { status: 406, title: 'None of the accepted media types can be produced' },
  precondition_failed: { status: 412, title: 'A precondition (If-Match / If-None-Match) failed' },
  payload_too_large: { status: 413, title: 'The message is larger than max_payload' },
  unsupported_media_type: { status: 415, title: 'The body media type is not accepted here' },
  rate_limited: { status: 429, title: 'Too many requests for this user; retry after Retry-After seconds' },
  jetstream_error: { status: 400, title: 'JetStream rejected the request' },
  no_responders: { status: 503, title: 'Nobody is listening on the subject' },
  broker_unavailable: { status: 503, title: 'The broker is closed or unreachable' },
  jetstream_unavailable: { status: 503, title: 'JetStream is not enabled or not reachable' },
  too_many_streams: { status: 503, title: 'Too many event streams are open on this gateway' },
  slow_consumer: { status: 503, title: 'The reader fell too far behind and was cut off' },
  request_timeout: { status: 504, title: 'No reply arrived before the timeout' },
  internal: { status: 500, title: 'Internal error' },
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** JetStream err_codes of failed expectations: wrong last msg id, wrong last sequence, stream mismatch. */
const PRECONDITION_ERR_CODES = new Set<number>([JetStreamApiCodes.StreamWrongLastMsgId, JetStreamApiCodes.StreamWrongLastSequence, JetStreamApiCodes.StreamNotMatch]);

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A failure with a code from the table, extra members for the body, and a cause. */
export class HttpProblem extends Error {
  readonly status: number;
  constructor(
    readonly code: HttpErrorCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    options?: { cause?: unknown; status?: number },
  ) {
    super(detail, options);
    this.name = 'HttpProblem';
    this.status = options?.status ?? HTTP_ERRORS[code].status;
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: HttpErrorCode;
  instance?: string;
  [extension: string]: unknown;
}

export function problemType(code: HttpErrorCode): string {
  return `urn:switchboard:problem:${code}`;
}

export function problemDocument(problem: HttpProblem, instance?: string): ProblemDocument {
  return {
    ...problem.extensions,
    type: problemType(problem.code),
    title: HTTP_ERRORS[problem.code].title,
    status: problem.status,
    detail: problem.detail,
    code: problem.code,
    ...(instance === undefined ? {} : { instance }),
  };
}

/**
 * What the request was about, so a failure can say what the user did: the
 * route's path parameters name the resource a JetStream "not found" is about
 * (`bucket` in /v1/kv, /v1/buckets and /v1/objects, `name` = a stream,
 * `consumer`), and the media types the route takes explain a 415.
 */
export interface ProblemContext {
  readonly params?: Readonly<Record<string, unknown>>;
  readonly accepts?: readonly string[];
  readonly contentType?: string;
}

/** JetStream's "not found" err_codes as the resource the route's parameters name. */
function notFoundProblem(error: JetStreamApiError, params: Readonly<Record<string, unknown>>): HttpProblem | null {
  const wire = { err_code: error.errCode, operation: error.op };
  if (error.errCode === JetStreamApiCodes.StreamNotFound) {
    if (typeof params.bucket === 'string') return new HttpProblem('bucket_not_found', `bucket ${JSON.stringify(params.bucket)} does not exist`, { bucket: params.bucket, ...wire }, { cause: error });
    if (typeof params.name === 'string') return new HttpProblem('stream_not_found', `stream ${JSON.stringify(params.name)} does not exist`, { stream: params.name, ...wire }, { cause: error });
    return new HttpProblem('stream_not_found', error.description, wire, { cause: error });
  }
  if (error.errCode === JetStreamApiCodes.ConsumerNotFound) {
    const consumer = typeof params.consumer === 'string' ? params.consumer : undefined;
    return new HttpProblem('consumer_not_found', consumer === undefined ? error.description : `consumer ${JSON.stringify(consumer)} does not exist on stream ${JSON.stringify(params.name)}`, { ...(consumer === undefined ? {} : { stream: params.name, consumer }), ...wire }, { cause: error });
  }
  if (error.errCode === JetStreamApiCodes.NoMessageFound) return new HttpProblem('message_not_found', error.description, { ...(typeof params.name === 'string' ? { stream: params.name } : {}), ...wire }, { cause: error });
  return null;
}

/** A 415 that names what the route takes, and how curl sends it. */
function mediaTypeProblem(error: Partial<FastifyError>, context: ProblemContext): HttpProblem {
  const got = context.contentType ?? 'no Content-Type';
  const accepts = context.accepts ?? [];
  if (accepts.length === 0) return new HttpProblem('unsupported_media_type', error.message ?? 'unsupported media type', { content_type: got }, { cause: error });
  const hint = got.startsWith('application/x-www-form-urlencoded') ? ` (curl -d sends ${got}; add -H 'Content-Type: ${accepts[0]}')` : '';
  return new HttpProblem('unsupported_media_type', `this route takes ${accepts.join(' or ')}, not ${got}${hint}`, { content_type: got, accepted: accepts }, { cause: error });
}

/** Map anything thrown by a route, fastify or the Broker port into a problem. */
export function toProblem(error: unknown, context: ProblemContext = {}): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof NoRespondersError) {
    return new HttpProblem('no_responders', error.message, { subject: error.subject }, { cause: error });
  }
  if (error instanceof RequestTimeoutError) {
    return new HttpProblem('request_timeout', error.message, { subject: error.subject, timeout_ms: error.timeoutMs }, { cause: error });
  }
  if (error instanceof InvalidSubjectError) {
    return new HttpProblem('invalid_subject', error.message, { subject: error.subject }, { cause: error });
  }
  if (error instanceof JetStreamApiError) {
    // The HTTP status is JetStream's own `code` (400, 404, 500, 503); err_code is kept for clients.
    // Failed Nats-Expected-* checks are HTTP preconditions: 412, like If-Match.
    if (PRECONDITION_ERR_CODES.has(error.errCode)) {
      return new HttpProblem('precondition_failed', error.description, { err_code: error.errCode, operation: error.op }, { cause: error });
    }
    const notFound = notFoundProblem(error, context.params ?? {});
    if (notFound !== null) return notFound;
    const code = error.code === 503 ? 'jetstream_unavailable' : 'jetstream_error';
    const status = error.code >= 400 && error.code < 600 ? error.code : HTTP_ERRORS[code].status;
    return new HttpProblem(code, error.description, { err_code: error.errCode, operation: error.op }, { cause: error, status });
  }
  if (error instanceof KvError) {
    const code = error.kind === 'wrong_revision' || error.kind === 'exists' ? 'precondition_failed' : 'invalid_request';
    return new HttpProblem(code, error.message, error.details, { cause: error });
  }
  if (error instanceof ObjectStoreError) {
    const code = error.kind === 'not_found' ? 'object_not_found' : error.kind === 'digest_mismatch' ? 'internal' : 'invalid_request';
    return new HttpProblem(code, error.message, error.details, { cause: error });
  }
  if (error instanceof JetStreamNotEnabledError) return new HttpProblem('jetstream_unavailable', error.message, { operation: error.op }, { cause: error });
  if (error instanceof BrokerClosedError) return new HttpProblem('broker_unavailable', error.message, {}, { cause: error });
  const fst = error as Partial<FastifyError> & { validation?: unknown };
  if (fst.validation !== undefined) return new HttpProblem('invalid_request', fst.message ?? 'invalid request', {}, { cause: error });
  switch (fst.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem('payload_too_large', fst.message ?? 'body too large', {}, { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return mediaTypeProblem(fst, context);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpProblem('invalid_json', fst.message ?? 'invalid JSON', {}, { cause: error });
  }
  if (error instanceof SyntaxError) return new HttpProblem('invalid_json', error.message, {}, { cause: error });
  if (typeof fst.statusCode === 'number' && fst.statusCode >= 400 && fst.statusCode < 500) {
    return new HttpProblem('invalid_request', fst.message ?? 'bad request', {}, { cause: error, status: fst.statusCode });
  }
  return new HttpProblem('internal', 'internal error', {}, { cause: error });
}

export function sendProblem(reply: FastifyReply, problem: HttpProblem, request?: FastifyRequest): FastifyReply {
  if (problem.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="switchboard", Basic realm="switchboard"');
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problemDocument(problem, request?.url.split('?')[0])));
}
