// Debian's mosquitto_pub / mosquitto_sub as child processes, for tests that
// drive any MQTT server with the reference command-line clients.
// mosquitto_sub runs under `stdbuf -oL`: in a pipe its debug lines are block-buffered.

import { spawn, type ChildProcess } from 'node:child_process';
import { waitForOutput } from './servers.ts';

/** Run a command to its end (killed after 10 s); stdout and stderr together. */
export function run(command: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * mosquitto_sub with -d: resolves once SUBACK arrived; `lines()` are the printed
 * messages, those that start with `MSG ` (give `-F 'MSG ...'`).
 */
export async function startSub(port: number, args: string[]): Promise<{ child: ChildProcess; lines(): string[] }> {
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-d', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  await waitForOutput(child, 'received SUBACK');
  return { child, lines: () => out.split('\n').filter((l) => l.startsWith('MSG ')) };
}

/** One mosquitto_pub run with protocol `version` (mqttv311, mqttv5). */
export const pub = (port: number, version: string, args: string[]): Promise<{ code: number | null; out: string }> =>
  run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-V', version, ...args]);
