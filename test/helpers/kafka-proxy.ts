// A loopback TCP proxy in front of the mock Kafka cluster, for two things the
// mock cannot do by itself:
// 1. librdkafka 2.0.2's mock reports controller id 0, a broker that does not
//    exist; kafkajs's idempotent producer asks the controller for its producer id
//    and fails. The proxy rewrites the controller id to the first real broker.
// 2. A restarted mock is a new cluster on new ports. The proxy keeps stable
//    addresses, so the bridge keeps its configured brokers across an outage: the
//    test retargets the proxy at the new cluster.
// 3. The mock has neither TLS nor SASL. With `tls` the proxy's listeners speak
//    TLS (the mock behind stays plain); with `sasl` the proxy advertises
//    SaslHandshake/SaslAuthenticate in ApiVersions, answers them itself
//    (kafka-sasl.ts), and closes a connection that sends anything else first,
//    as a broker with SASL listeners does.
// Broker addresses inside Metadata (api 3) and FindCoordinator (api 10)
// responses are rewritten to the proxy's ports; the host stays 127.0.0.1, so
// every rewrite is in place and no frame changes size. Only the non-flexible
// versions kafkajs uses (Metadata <= v6, FindCoordinator <= v2, ApiVersions
// <= v2, SaslHandshake and SaslAuthenticate <= v1) are parsed.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { answerSaslRequest, SASL_AUTHENTICATE, SASL_HANDSHAKE, SaslExchange, withSaslApis, type SaslUser } from './kafka-sasl.ts';
import { skipString } from './kafka-wire.ts';
import { commandAvailable, PROJECT_ROOT, stopChild, waitForOutput } from './servers.ts';

const METADATA = 3;
const FIND_COORDINATOR = 10;
const API_VERSIONS = 18;

export interface KafkaProxyOptions {
  /** TLS on the proxy's listeners (key, cert, and ca + requestCert to ask for client certificates). */
  tls?: TlsOptions;
  /** Require SASL with this mechanism and these credentials. */
  sasl?: SaslUser;
}

export interface KafkaProxy {
  /** Stable addresses to give kafkajs. */
  readonly brokers: string[];
  /** Point at a (new) mock cluster, or null to refuse connections (an outage). Existing connections are cut. */
  retarget(upstream: string[] | null): void;
  close(): Promise<void>;
}

/**
 * Splits a Kafka byte stream into frames (int32 size + body) without copying
 * what passes through: once a frame's first `headSize` bytes are known, `decide`
 * says whether to stream it on as it arrives or to buffer it whole for `whole`,
 * which returns what to send on instead (the frame, a rewritten one, or null).
 */
class FrameSplitter {
  private head: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private buffering = false;
  private parts: Buffer[] = [];

  constructor(
    private readonly headSize: number,
    private readonly decide: (head: Buffer) => boolean,
    private readonly whole: (frame: Buffer) => Buffer | null,
    private readonly emit: (bytes: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    while (chunk.length > 0) {
      if (this.remaining === 0) {
        const take = Math.min(this.headSize - this.head.length, chunk.length);
        this.head = Buffer.concat([this.head, chunk.subarray(0, take)]);
        chunk = chunk.subarray(take);
        if (this.head.length < this.headSize) return;
        this.remaining = this.head.readInt32BE(0) + 4 - this.headSize;
        this.buffering = this.decide(this.head);
        if (this.buffering) this.parts = [this.head];
        else this.emit(this.head);
        this.head = Buffer.alloc(0);
      } else {
        const take = Math.min(this.remaining, chunk.length);
        const piece = chunk.subarray(0, take);
        chunk = chunk.subarray(take);
        this.remaining -= take;
        if (this.buffering) this.parts.push(piece);
        else this.emit(piece);
      }
      if (this.remaining === 0 && this.buffering) {
        const frame = Buffer.concat(this.parts);
        this.parts = [];
        this.buffering = false;
        const out = this.whole(frame);
        if (out !== null) this.emit(out);
      }
    }
  }
}

export async function startKafkaProxy(count = 3, options: KafkaProxyOptions = {}): Promise<KafkaProxy> {
  let upstream: string[] | null = null;
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const ports: number[] = [];
  const sasl = options.sasl;

  const proxyPortFor = (port: number): number => {
    const index = upstream?.findIndex((address) => address.endsWith(`:${port}`)) ?? -1;
    return index >= 0 && index < ports.length ? ports[index] : port;
  };

  const rewrite = (frame: Buffer, apiKey: number, version: number): Buffer => {
    if (apiKey === METADATA && version <= 6) {
      let at = 8 + (version >= 3 ? 4 : 0);
      const n = frame.readInt32BE(at);
      at += 4;
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        ids.push(frame.readInt32BE(at));
        at = skipString(frame, at + 4);
        frame.writeInt32BE(proxyPortFor(frame.readInt32BE(at)), at);
        at += 4;
        if (version >= 1) at = skipString(frame, at);
      }
      if (version >= 2) at = skipString(frame, at);
      if (version >= 1 && ids.length > 0 && !ids.includes(frame.readInt32BE(at))) frame.writeInt32BE(Math.min(...ids), at);
    } else if (apiKey === FIND_COORDINATOR && version <= 2) {
      let at = 8;
      if (version >= 1) at = skipString(frame, at + 4 + 2);
      else at += 2;
      at = skipString(frame, at + 4);
      frame.writeInt32BE(proxyPortFor(frame.readInt32BE(at)), at);
    } else if (apiKey === API_VERSIONS && version <= 2 && frame.readInt16BE(8) === 0) {
      return withSaslApis(frame);
    }
    return frame;
  };

  const handle = (client: Socket, index: number): void => {
    const target = upstream?.[index];
    if (target === undefined) {
      client.destroy();
      return;
    }
    const [host, port] = target.split(':');
    const server = connect(Number(port), host);
    // A frame's head and body leave as separate writes: with Nagle on, the body
    // waits for the peer's delayed ACK (~40 ms) and a produce stalls on every frame.
    client.setNoDelay(true);
    server.setNoDelay(true);
    sockets.add(client);
    sockets.add(server);
    const close = (): void => {
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    const exchange = sasl === undefined ? null : new SaslExchange(sasl);
    let authenticated = sasl === undefined;
    const requests = new Map<number, { apiKey: number; version: number }>();
    // Requests: size, api key, api version, correlation id (12 bytes); only remembered when the answer needs rewriting.
    const fromClient = new FrameSplitter(
      12,
      (head) => {
        const apiKey = head.readInt16BE(4);
        if (!authenticated && (apiKey === SASL_HANDSHAKE || apiKey === SASL_AUTHENTICATE)) return true;
        if (!authenticated && apiKey !== API_VERSIONS) {
          // A SASL listener closes a connection that skips authentication.
          close();
          return false;
        }
        if (apiKey === METADATA || apiKey === FIND_COORDINATOR || (apiKey === API_VERSIONS && sasl !== undefined)) {
          requests.set(head.readInt32BE(8), { apiKey, version: head.readInt16BE(6) });
        }
        return false;
      },
      (frame) => {
        if (exchange !== null) {
          const answer = answerSaslRequest(frame, exchange);
          client.write(answer.reply);
          authenticated = answer.authenticated;
        }
        return null;
      },
      (bytes) => {
        if (!server.destroyed) server.write(bytes);
      },
    );
    // Responses: size, correlation id (8 bytes).
    let current: { apiKey: number; version: number } | undefined;
    const fromServer = new FrameSplitter(
      8,
      (head) => {
        const correlation = head.readInt32BE(4);
        current = requests.get(correlation);
        requests.delete(correlation);
        return current !== undefined;
      },
      (frame) => (current === undefined ? frame : rewrite(frame, current.apiKey, current.version)),
      (bytes) => client.write(bytes),
    );
    client.on('data', (chunk: Buffer) => fromClient.push(chunk));
    server.on('data', (chunk: Buffer) => fromServer.push(chunk));
    client.on('error', close).on('close', close);
    server.on('error', close).on('close', close);
  };

  for (let i = 0; i < count; i++) {
    const tls = options.tls;
    const server = tls === undefined ? createServer((socket) => handle(socket, i)) : createTlsServer(tls, (socket) => handle(socket, i));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    ports.push(typeof address === 'object' && address !== null ? address.port : 0);
    servers.push(server);
  }

  return {
    brokers: ports.map((port) => `127.0.0.1:${port}`),
    retarget(next) {
      upstream = next;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    async close() {
      upstream = null;
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

/** The proxy in a child process of its own (kafka-proxy-main.ts), in front of a fixed cluster. */
export async function spawnKafkaProxy(upstream: readonly string[]): Promise<{ brokers: string[]; stop(): Promise<void> }> {
  const args = ['--import', 'tsx', 'test/helpers/kafka-proxy-main.ts', upstream.join(',')];
  // setpriv --pdeathsig: the proxy dies with the process that started it, never orphaned.
  const command = commandAvailable('setpriv') ? ['setpriv', '--pdeathsig', 'KILL', process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(command[0], command.slice(1), { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const seen = await waitForOutput(child, /kafka proxy ready (\S+)\n/, 15_000);
  child.stdout?.resume();
  const brokers = (/kafka proxy ready (\S+)\n/.exec(seen)?.[1] ?? '').split(',');
  return { brokers, stop: () => stopChild(child, 'SIGKILL') };
}
