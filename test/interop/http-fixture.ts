// Shared fixture for the HTTP gateway tests: an in-process Switchboard core, an
// EmbeddedBroker on it, and the gateway on 127.0.0.1:0. Also a small SSE/NDJSON
// reader over a real fetch response, with bounded waits.

import type { Authorizer } from '../../core/auth/authorizer.ts';
import { OpenAuthorizer } from '../../core/auth/authorizer.ts';
import type { Broker } from '../../core/broker/broker.ts';
import { NatsBroker } from '../../core/broker/nats-broker.ts';
import { createHttpGateway, type HttpGateway, type HttpGatewayOptions } from '../../gateways/http/http-gateway.ts';
import { startNatsServerJetStream, startSwitchboardJetStream } from '../helpers/jetstream.ts';
import { inTurn, sharedClusterDeployment } from '../helpers/nats-cluster.ts';
import type { Peer } from '../helpers/peers.ts';
import { startSwitchboard, type RunningServer } from '../helpers/servers.ts';

export interface HttpFixture {
  gateway: HttpGateway;
  broker: Broker;
  /** http://127.0.0.1:port */
  base: string;
  /** nats://127.0.0.1:port of the core */
  natsUrl: string;
  stop(): Promise<void>;
}

export async function startHttpFixture(options: Partial<HttpGatewayOptions> & { authorizer?: Authorizer } = {}): Promise<HttpFixture> {
  const core = await startSwitchboard();
  return gatewayOn(core.broker, core, options);
}

async function gatewayOn(broker: Broker, core: RunningServer, options: Partial<HttpGatewayOptions>): Promise<HttpFixture> {
  const gateway = createHttpGateway({ authorizer: new OpenAuthorizer(), host: '127.0.0.1', port: 0, ...options, broker });
  await gateway.start();
  return {
    gateway,
    broker,
    base: gateway.url,
    natsUrl: core.url,
    stop: async () => {
      await gateway.stop();
      await broker.close();
      await core.stop();
    },
  };
}

export interface HttpTarget<F> {
  readonly name: string;
  /** Reference peers the target runs on: its suite is registered with `{ peers }` (peer-test.ts). */
  readonly peers?: readonly Peer[];
  start(options?: Partial<HttpGatewayOptions>): Promise<F>;
}

/** A fixture of the cluster target: the gateways are processes, so there is no in-process gateway object. */
export type HttpClusterCapableFixture = Omit<HttpFixture, 'gateway'> & { gateway: HttpGateway | null };

/**
 * The gateway in front of JetStream: embedded (EmbeddedBroker on Switchboard's
 * core and engine) or as in cluster mode (NatsBroker to Debian's nats-server -js);
 * with `{ cluster: true }` also 'cluster': two gateway processes on a 3-node
 * nats-server cluster (one per test file), where every use of `base` names the
 * next gateway, so one test's requests spread over both.
 */
export function httpJetStreamTargets(): Array<HttpTarget<HttpFixture>>;
export function httpJetStreamTargets(options: { cluster: true }): Array<HttpTarget<HttpClusterCapableFixture>>;
export function httpJetStreamTargets(options: { cluster?: boolean } = {}): Array<HttpTarget<HttpClusterCapableFixture>> {
  const targets: Array<HttpTarget<HttpClusterCapableFixture>> = [
    {
      name: 'embedded',
      start: async (options: Partial<HttpGatewayOptions> = {}) => {
        const core = await startSwitchboardJetStream();
        return gatewayOn(core.broker, core, options);
      },
    },
    {
      name: 'nats-server',
      peers: ['nats-server'],
      start: async (options: Partial<HttpGatewayOptions> = {}) => {
        const core = await startNatsServerJetStream();
        return gatewayOn(await NatsBroker.connect({ servers: core.url }), core, options);
      },
    },
  ];
  if (options.cluster === true) targets.push({ name: 'cluster', peers: ['nats-server'], start: startHttpCluster(sharedClusterDeployment()) });
  return targets;
}

function startHttpCluster(deployment: ReturnType<typeof sharedClusterDeployment>): HttpTarget<HttpClusterCapableFixture>['start'] {
  return async (options = {}) => {
    if (Object.keys(options).length > 0) throw new Error(`the cluster target runs gateway processes; options ${Object.keys(options).join(', ')} cannot apply`);
    const { cluster, gateways } = await deployment();
    const nextBase = inTurn(gateways.map((g) => `http://127.0.0.1:${g.gateways.http}`));
    const broker = await NatsBroker.connect({ servers: [...cluster.urls] });
    return {
      gateway: null,
      broker,
      get base() {
        return nextBase();
      },
      natsUrl: cluster.url,
      stop: () => broker.close(),
    };
  };
}

export interface SseEvent {
  event: string;
  id?: string;
  data: string;
}

/** Reads SSE frames (or NDJSON lines) from a fetch response body as they arrive. */
export class StreamReader {
  private buffer = '';
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  /** Comment lines seen (SSE `: ...`), e.g. heartbeats. */
  comments: string[] = [];
  done = false;

  constructor(response: Response) {
    if (response.body === null) throw new Error('response has no body');
    this.reader = response.body.getReader();
  }

  private async more(deadline: number): Promise<boolean> {
    if (this.done) return false;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), left);
    });
    const chunk = await Promise.race([this.reader.read(), timeout]);
    clearTimeout(timer);
    if (chunk === null) return false;
    if (chunk.done) {
      this.done = true;
      return false;
    }
    this.buffer += this.decoder.decode(chunk.value, { stream: true });
    return true;
  }

  /** Next SSE event (comments are collected, not returned); null on end or timeout. */
  async nextEvent(timeoutMs = 5_000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const frame = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const event: SseEvent = { event: 'message', data: '' };
        const data: string[] = [];
        let any = false;
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
          else if (line.startsWith('event: ')) [event.event, any] = [line.slice(7), true];
          else if (line.startsWith('id: ')) [event.id, any] = [line.slice(4), true];
          else if (line.startsWith('data: ')) [data[data.length], any] = [line.slice(6), true];
        }
        if (!any) continue;
        event.data = data.join('\n');
        return event;
      }
      if (!(await this.more(deadline))) return null;
    }
  }

  /** Next NDJSON line (empty heartbeat lines are counted in `comments`); null on end or timeout. */
  async nextLine(timeoutMs = 5_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buffer.indexOf('\n');
      if (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        if (line === '') {
          this.comments.push('');
          continue;
        }
        return line;
      }
      if (!(await this.more(deadline))) return null;
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

/** Poll `check` every 10 ms, at most `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Run curl as a child process without blocking the event loop (the gateway under
 * test lives in this process). Resolves with stdout, stderr and the exit code.
 */
export async function curl(args: string[], input?: Buffer | string, timeoutMs = 10_000): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  const { spawn } = await import('node:child_process');
  const child = spawn('curl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { stdout: Buffer.concat(out), stderr, code };
}

/** A curl -si answer split into status, lower-cased headers and body. */
export interface CurlAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** curl -sS -i with `args`; its exit code must be 0. */
export async function curlAnswer(args: string[], input?: string): Promise<CurlAnswer> {
  const { stdout, stderr, code } = await curl(['-sS', '-i', ...args], input);
  if (code !== 0) throw new Error(`curl ${args.join(' ')} exited ${code}: ${stderr}`);
  const text = stdout.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: split < 0 ? '' : text.slice(split + 4) };
}
