// NATS-over-WebSocket servers for differential tests: Switchboard (createCore()
// plus the WebSocket gateway, in-process) and Debian's nats-server with its
// `websocket {}` block (no TLS, loopback), so one suite states behaviour both
// must share.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { ServerOptions } from '../../core/config/server-options.ts';
import { createCore, type CoreOptions } from '../../core/create-core.ts';
import type { NatsServer } from '../../core/server/nats-server.ts';
import { createWebSocketGateway, type WebSocketGateway, type WebSocketGatewayOptions } from '../../gateways/websocket/websocket-gateway.ts';
import type { Peer } from './peers.ts';
import { freePort, stopChild, waitForOutput } from './servers.ts';

export interface WsTargetOptions {
  allowedOrigins?: string[];
  sameOrigin?: boolean;
  compression?: boolean;
}

export interface WsEndpoints {
  readonly name: string;
  readonly tcpUrl: string;
  readonly wsUrl: string;
  readonly wsPort: number;
  stop(): Promise<void>;
}

export interface WsTarget {
  readonly name: string;
  /** Reference peers the target runs on: its suite is registered with `{ peers }` (peer-test.ts). */
  readonly peers?: readonly Peer[];
  start(options?: WsTargetOptions): Promise<WsEndpoints>;
}

export interface SwitchboardWs extends WsEndpoints {
  readonly nats: NatsServer;
  readonly gateway: WebSocketGateway;
}

/** Switchboard's NatsServer and the WebSocket gateway in-process, every option open to tests. */
export async function startSwitchboardWs(
  gatewayOptions: Partial<WebSocketGatewayOptions> = {},
  serverOptions: Partial<ServerOptions> = {},
  deps: Pick<CoreOptions, 'authorizer'> = {},
): Promise<SwitchboardWs> {
  const core = createCore({ ...deps, server: { host: '127.0.0.1', port: 0, ...serverOptions } });
  await core.start();
  const nats = core.nats;
  const gateway = createWebSocketGateway({ nats, host: '127.0.0.1', port: 0, ...gatewayOptions });
  await gateway.start();
  return {
    name: 'switchboard',
    nats,
    gateway,
    tcpUrl: `nats://127.0.0.1:${nats.port}`,
    wsUrl: gateway.url,
    wsPort: gateway.port,
    async stop() {
      await gateway.stop();
      await core.stop();
    },
  };
}

async function startNatsServerWs(options: WsTargetOptions = {}): Promise<WsEndpoints> {
  const tcpPort = await freePort();
  const wsPort = await freePort();
  const lines = [`listen: "127.0.0.1:${wsPort}"`, 'no_tls: true'];
  if (options.allowedOrigins !== undefined) lines.push(`allowed_origins: ${JSON.stringify(options.allowedOrigins)}`);
  if (options.sameOrigin) lines.push('same_origin: true');
  if (options.compression) lines.push('compression: true');
  const dir = mkdtempSync(join(tmpdir(), 'nats-ws-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, `listen: 127.0.0.1:${tcpPort}\nwebsocket {\n  ${lines.join('\n  ')}\n}\n`);
  const child = spawn('nats-server', ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, 'Server is ready');
  return {
    name: 'nats-server',
    tcpUrl: `nats://127.0.0.1:${tcpPort}`,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    wsPort,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Switchboard and nats-server's WebSocket listener (a skip, or under CI a failure, without nats-server). */
export function wsTargets(): WsTarget[] {
  return [
    { name: 'switchboard', start: (options) => startSwitchboardWs(options) },
    { name: 'nats-server', peers: ['nats-server'], start: startNatsServerWs },
  ];
}
