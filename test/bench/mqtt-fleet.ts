// MQTT at fleet scale (issue 20), Switchboard's real CLI (gateways/main.ts,
// sessions and retained messages in JetStream) beside mosquitto, with the
// load generator (mqtt-fleet-load.ts) in its own process:
// - connect rate: clean CONNECT + SUBSCRIBE, 32 in parallel, and the server
//   CPU it took per 1,000 connections (steadier than the rate on a busy machine);
// - idle memory: server RSS before and after holding `hold` such connections
//   (the file-descriptor limit here is 20,000 per process), per connection;
// - reconnect storm: `storm` clients, half persistent with a QoS 1
//   subscription, all dropped and reconnected at once: the time until every
//   one is back, and the worst PINGREQ -> PINGRESP time of a separate client
//   (pinging every 20 ms from this process) meanwhile.
// `--switchboard-root <dir>` runs another checkout's server (say, main) with
// this load generator, to compare before and after. Switchboard runs as
// `npm start` does, from the production build (dist/switchboard.mjs, `npm run
// build`) when there is one, else from the sources with tsx (whose loader adds
// memory of its own); the row says which.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCpuSeconds, readRssKiB } from './bench-servers.ts';
import { LoadGenerator, startPinger } from '../helpers/mqtt-fleet-clients.ts';
import { freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';

export interface FleetSize {
  readonly rate: number;
  readonly hold: number;
  readonly storm: number;
}

export const FLEET_FULL: FleetSize = { rate: 5_000, hold: 18_000, storm: 15_000 };
export const FLEET_QUICK: FleetSize = { rate: 1_000, hold: 2_000, storm: 2_000 };

interface FleetServer {
  /** How Switchboard ran: 'dist' (production build) or 'tsx'. */
  readonly how: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly dir: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startFleetServer(name: 'switchboard' | 'mosquitto', root: string): Promise<FleetServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), `mqtt-fleet-${name}-`));
  let child: ChildProcess;
  let how: string = name;
  if (name === 'mosquitto') {
    const conf = join(dir, 'm.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type error\n`);
    child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    await sleep(500);
  } else {
    const built = existsSync(join(root, 'dist', 'switchboard.mjs'));
    how = built ? 'dist' : 'tsx';
    child = spawn(process.execPath, [...(built ? ['dist/switchboard.mjs'] : ['--import', 'tsx', 'gateways/main.ts']), '-a', '127.0.0.1', '-p', '0', '-m', '0', '--mqtt_port', String(port),
      '--http_gateway_port', '0', '--websocket_port', '0', '-sd', join(dir, 'js')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(child, 'Switchboard ready', 30_000);
  }
  child.stdout?.resume();
  child.stderr?.resume();
  await sleep(2_000); // settle: start-up garbage collected, lazily made buffers in place
  return { how, port, child, dir };
}

async function stopFleetServer(server: FleetServer): Promise<void> {
  await stopChild(server.child);
  rmSync(server.dir, { recursive: true, force: true });
}

const load1 = (): string => loadavg()[0].toFixed(1);

/** Every fleet figure for one server. */
export async function fleetFigures(name: 'switchboard' | 'mosquitto', size: FleetSize, root = PROJECT_ROOT, progress: (line: string) => void = () => {}): Promise<Record<string, string>> {
  const row: Record<string, string> = {};
  let server = await startFleetServer(name, root);
  try {
    const pid = server.child.pid!;
    const rss0 = readRssKiB(pid);
    row.server = server.how;
    row['idle RSS MiB'] = (rss0 / 1024).toFixed(1);
    const gen = LoadGenerator.start(server.port);
    const cpu0 = readCpuSeconds(pid);
    progress(`${name}: ${size.rate} connect+subscribe, 32 in parallel (load ${load1()})`);
    const rate = await gen.ask<{ opened: number; seconds: number }>({ cmd: 'open', count: size.rate, concurrency: 32, prefix: 'rate' });
    row['connect+sub /s'] = (rate.opened / rate.seconds).toFixed(0);
    row['server CPU ms per 1,000 connects'] = (((readCpuSeconds(pid) - cpu0) * 1_000_000) / rate.opened).toFixed(0);
    row['load avg (rate)'] = load1();
    progress(`${name}: holding ${size.hold} idle connections`);
    await gen.ask({ cmd: 'open', count: size.hold - size.rate, concurrency: 64, prefix: 'hold' });
    await sleep(3_000);
    const rss1 = readRssKiB(pid);
    row[`RSS MiB holding ${size.hold}`] = (rss1 / 1024).toFixed(1);
    row['KiB per idle connection'] = ((rss1 - rss0) / size.hold).toFixed(2);
    const cpuIdle0 = readCpuSeconds(pid);
    await sleep(5_000);
    row[`idle CPU % holding ${size.hold}`] = (((readCpuSeconds(pid) - cpuIdle0) / 5) * 100).toFixed(1);
    await gen.stop();
  } finally {
    await stopFleetServer(server);
  }
  server = await startFleetServer(name, root);
  try {
    const gen = LoadGenerator.start(server.port);
    progress(`${name}: ${size.storm} clients (half persistent), then a reconnect storm`);
    await gen.ask({ cmd: 'open', count: size.storm, concurrency: 64, prefix: 'storm', persistentHalf: true });
    await sleep(2_000); // the persistent sessions are saved
    const pinger = await startPinger(server.port);
    await sleep(200);
    const storm = await gen.ask<{ reconnected: number; seconds: number }>({ cmd: 'storm', concurrency: 1_000 });
    const ping = await pinger.stop();
    row[`storm: ${size.storm} back in s`] = storm.seconds.toFixed(2);
    row['storm: worst PINGRESP ms'] = ping.worstMs.toFixed(1);
    row['load avg (storm)'] = load1();
    await gen.stop();
  } finally {
    await stopFleetServer(server);
  }
  return row;
}
