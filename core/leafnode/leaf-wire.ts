// What goes on the leafnode wire besides the parser's input: the INFO and
// CONNECT objects (nats-server's field names, server/leafnode.go
// leafConnectInfo and the leafnode Info), the subject rules that keep two
// JetStreams from both answering, and the encoders of LS+/LS-/LMSG/LHMSG.

import { subjectIsSubsetOf, subjectMatches } from '../subject/subject.ts';

/** The INFO a leafnode listener sends (the fields a leaf reads). */
export interface LeafInfo {
  server_id: string;
  server_name?: string;
  version?: string;
  proto?: number;
  headers?: boolean;
  auth_required?: boolean;
  tls_required?: boolean;
  tls_verify?: boolean;
  max_payload?: number;
  jetstream?: boolean;
  domain?: string;
  nonce?: string;
  /** nats-server: a leafnode INFO always has the connection id and the URL list; without them the leaf knows it dialled the wrong port. */
  client_id?: number;
  leafnode_urls?: string[];
}

/** The CONNECT a leaf sends (nats-server leafConnectInfo). */
export interface LeafConnect {
  version?: string;
  nkey?: string;
  jwt?: string;
  sig?: string;
  user?: string;
  pass?: string;
  auth_token?: string;
  server_id?: string;
  domain?: string;
  name?: string;
  is_hub?: boolean;
  cluster?: string;
  headers?: boolean;
  jetstream?: boolean;
  deny_pub?: string[];
  remote_account?: string;
  protocol?: number;
  /** A NATS client library sends `lang`; a leaf never does: nats-server refuses such a CONNECT on the leaf port. */
  lang?: string;
  gateway?: string;
}

/** nats-server's loop detection subject prefix: each server sends `$LDS.<unique>`; seeing its own back means a loop. */
export const LOOP_DETECTION_PREFIX = '$LDS.';

/**
 * JetStream API subjects that never cross a leaf link in either direction
 * (nats-server jetstream_api.go denyAllClientJs, applied by
 * addLeafNodeConnection): both sides may run JetStream, and a request on
 * `$JS.API.>` must be answered by one of them only. Across the link a
 * JetStream is reached by its domain, `$JS.<domain>.API.>`.
 */
export const DENY_ACROSS_LEAF: readonly string[] = ['$JS.API.>', '$KV.>', '$OBJ.>'];

/** Interest on `subject` is not sent or accepted when a deny rule covers all of it. */
export function interestDenied(subject: string, deny: readonly string[]): boolean {
  for (const d of deny) if (subjectIsSubsetOf(subject, d)) return true;
  return false;
}

/** A message on `subject` is not sent or accepted when a deny rule matches it. */
export function messageDenied(subject: string, deny: readonly string[]): boolean {
  for (const d of deny) if (subjectMatches(d, subject)) return true;
  return false;
}

/** `LS+ <subject>` or `LS+ <subject> <queue> <weight>` (nats-server writeLeafSub). */
export function encodeSub(subject: string, queue: string | null, weight: number): string {
  return queue === null ? `LS+ ${subject}\r\n` : `LS+ ${subject} ${queue} ${weight}\r\n`;
}

export function encodeUnsub(subject: string, queue: string | null): string {
  return queue === null ? `LS- ${subject}\r\n` : `LS- ${subject} ${queue}\r\n`;
}

/**
 * The control line of one LMSG (HMSG with headers: nats-server's leaf
 * messages with headers take the client's op name). With queue names, the reply indicator
 * `+ <reply>` or `|` comes first (nats-server processLeafMsgArgs): the other
 * side then serves only those queue groups besides its plain subscribers.
 */
export function encodeMsgLine(subject: string, reply: string | null, queues: readonly string[], headerSize: number, size: number): string {
  const op = headerSize >= 0 ? 'HMSG' : 'LMSG';
  const sizes = headerSize >= 0 ? `${headerSize} ${size}` : `${size}`;
  if (queues.length === 0) return reply === null ? `${op} ${subject} ${sizes}\r\n` : `${op} ${subject} ${reply} ${sizes}\r\n`;
  const indicator = reply === null ? '|' : `+ ${reply}`;
  return `${op} ${subject} ${indicator} ${queues.join(' ')} ${sizes}\r\n`;
}

/**
 * A JetStream push message crosses under its deliver subject, its stored
 * subject riding after `@` in the ack reply: `$JS.ACK.<8 tokens>@<subject>`
 * (nats-server jsAckDeliverIdx). Returns the `@`'s index, or -1.
 */
export function ackSubjectIndex(reply: string): number {
  if (!reply.startsWith('$JS.ACK.')) return -1;
  let dots = 0;
  for (let i = 0; i < reply.length; i++) {
    const c = reply.charCodeAt(i);
    if (c === 0x2e) dots++;
    else if (c === 0x40 && dots >= 8) return i;
  }
  return -1;
}

/** `-ERR '<text>'`, as nats-server sends it. */
export function encodeError(text: string): string {
  return `-ERR '${text}'\r\n`;
}
