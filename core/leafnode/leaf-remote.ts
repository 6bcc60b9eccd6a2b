// The leaf side of a link (nats-server's leafnode `remotes`): dial the hub's
// leafnode port, read its INFO, upgrade to TLS when it or the config asks,
// send CONNECT with the configured credentials (user/password or token from
// the URL or the config, or a creds file whose seed signs the INFO nonce),
// then hand the socket to a LeafConnection. A lost link is dialled again
// after a delay that doubles up to a ceiling, with jitter so a fleet of edges
// does not return in step; each attempt takes the next URL.

import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { fromSeed } from '@nats-io/nkeys';
import type { LeafRemoteConfig } from '../config/leafnode-options.ts';
import { SocketConnection } from '../connection/socket-connection.ts';
import type { LeafConnect, LeafInfo } from './leaf-wire.ts';

/**
 * A remote as the `leafnodes` block configures it (urls: nats-leaf://, nats://, tls:// or host:port, with
 * credentials in the user info or a creds file whose seed signs the hub's nonce; reconnectDelayMs is the
 * first delay after a lost link, nats-server's 1 s), plus the ceiling that delay doubles up to.
 */
export interface LeafRemoteOptions extends LeafRemoteConfig {
  reconnectMaxMs?: number;
}

/** What this server says about itself in CONNECT. */
export interface LeafIdentity {
  serverId: string;
  name: string;
  version: string;
  jetstream: boolean;
  domain?: string;
}

/** A dialled, handshaken socket: the hub's INFO and what was read past it. */
export interface DialedLeaf {
  connection: SocketConnection;
  info: LeafInfo;
  rest: Buffer;
  connect: LeafConnect;
  url: string;
}

/** A remote that could not be reached or refused the handshake, with the URL tried. */
export class LeafDialError extends Error {
  constructor(readonly url: string, message: string, options?: { cause?: unknown }) {
    super(`leafnode remote ${redact(url)}: ${message}`, options);
    this.name = 'LeafDialError';
  }
}

const HANDSHAKE_TIMEOUT_MS = 5_000;

/** The delay before attempt `attempt` (0-based): doubling from `base` up to `max`, then ±25% jitter. */
export function reconnectDelay(attempt: number, base: number, max: number, random: () => number = Math.random): number {
  const plain = Math.min(max, base * 2 ** Math.min(attempt, 20));
  return Math.round(plain * (0.75 + random() * 0.5));
}

/** Dial one URL and do the handshake up to the CONNECT we will send. */
export async function dialLeaf(url: string, options: LeafRemoteOptions, identity: LeafIdentity): Promise<DialedLeaf> {
  const parsed = parseLeafUrl(url);
  let socket: Socket = tcpConnect({ host: parsed.host, port: parsed.port });
  try {
    await once(socket, 'connect', url);
    const { info, rest } = await readInfo(socket, url);
    const wantTls = info.tls_required === true || parsed.tls || options.tls !== undefined;
    if (wantTls) socket = await upgrade(socket, parsed.host, options, url);
    const connect = connectFor(info, parsed, options, identity);
    return { connection: new SocketConnection(socket), info, rest: wantTls ? Buffer.alloc(0) : rest, connect, url };
  } catch (error) {
    socket.destroy();
    throw error instanceof LeafDialError ? error : new LeafDialError(url, (error as Error).message, { cause: error });
  }
}

function parseLeafUrl(url: string): { host: string; port: number; tls: boolean; user?: string; pass?: string } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `nats-leaf://${url}`;
  const u = new URL(withScheme);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port: u.port === '' ? 7422 : Number(u.port),
    tls: u.protocol === 'tls:',
    user: u.username === '' ? undefined : decodeURIComponent(u.username),
    pass: u.password === '' ? undefined : decodeURIComponent(u.password),
  };
}

/** CONNECT as nats-server's sendLeafConnect builds it: credentials first, then user/password (a user alone is a token). */
function connectFor(info: LeafInfo, url: ReturnType<typeof parseLeafUrl>, options: LeafRemoteOptions, identity: LeafIdentity): LeafConnect {
  const connect: LeafConnect = {
    version: identity.version,
    server_id: identity.serverId,
    name: identity.name,
    headers: true,
    jetstream: identity.jetstream,
    ...(identity.domain === undefined ? {} : { domain: identity.domain }),
    // The one account here; with it a hub replaces a stale link of ours when we dial again (nats-server addLeafNodeConnection).
    remote_account: '$G',
    protocol: 1,
  };
  if (options.credentials !== undefined) {
    const { jwt, seed } = readCreds(options.credentials);
    const signature = fromSeed(new TextEncoder().encode(seed)).sign(new TextEncoder().encode(info.nonce ?? ''));
    connect.jwt = jwt;
    connect.sig = Buffer.from(signature).toString('base64url');
  }
  const user = url.user ?? options.user;
  const pass = url.user !== undefined ? url.pass : options.password;
  if (user !== undefined) {
    connect.user = user;
    if (pass === undefined) connect.auth_token = user;
    else connect.pass = pass;
  } else if (options.token !== undefined) connect.auth_token = options.token;
  return connect;
}

/** A creds file: the user JWT block, then the seed block (nats-server credsRe). */
function readCreds(path: string): { jwt: string; seed: string } {
  const text = readFileSync(path, 'utf8');
  const blocks = [...text.matchAll(/-{3,}[^\n]*-{3,}\r?\n([\w\-.=]+)\r?\n-{3,}[^\n]*-{3,}/g)].map((m) => m[1]);
  if (blocks.length < 2) throw new Error(`credentials file ${path} is malformed (needs a JWT and a seed block)`);
  return { jwt: blocks[0], seed: blocks[1] };
}

function readInfo(socket: Socket, url: string): Promise<{ info: LeafInfo; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new LeafDialError(url, 'no INFO from the hub')), HANDSHAKE_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const nl = buffered.indexOf(10);
      if (nl < 0) return;
      const line = buffered.toString('utf8', 0, nl).trim();
      if (!line.startsWith('INFO ')) return finish(new LeafDialError(url, `expected INFO, got ${JSON.stringify(line.slice(0, 60))}`));
      try {
        finish(null, { info: JSON.parse(line.slice(5)) as LeafInfo, rest: buffered.subarray(nl + 1) });
      } catch (cause) {
        finish(new LeafDialError(url, 'INFO is not valid JSON', { cause }));
      }
    };
    const onClose = (): void => finish(new LeafDialError(url, 'closed before INFO'));
    const finish = (error: Error | null, value?: { info: LeafInfo; rest: Buffer }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (error !== null) reject(error);
      else resolve(value as { info: LeafInfo; rest: Buffer });
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

async function upgrade(socket: Socket, host: string, options: LeafRemoteOptions, url: string): Promise<TLSSocket> {
  const tls = options.tls ?? {};
  const secure = tlsConnect({
    socket,
    servername: /^[\d.:]+$/.test(host) ? undefined : host,
    ca: tls.caFile === undefined ? undefined : readFileSync(tls.caFile),
    cert: tls.certFile === undefined ? undefined : readFileSync(tls.certFile),
    key: tls.keyFile === undefined ? undefined : readFileSync(tls.keyFile),
  });
  await once(secure, 'secureConnect', url);
  return secure;
}

function once(emitter: Socket, event: string, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new LeafDialError(url, `${event} timed out`));
    }, HANDSHAKE_TIMEOUT_MS);
    const onEvent = (): void => {
      clearTimeout(timer);
      emitter.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      reject(new LeafDialError(url, error.message, { cause: error }));
    };
    emitter.once(event, onEvent);
    emitter.once('error', onError);
  });
}

/** A URL without its password, for logs and /leafz. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:[REDACTED]@');
}
