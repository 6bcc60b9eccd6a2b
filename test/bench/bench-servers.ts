// The servers under test, each a child process on a free loopback port:
// Switchboard through its real CLI (gateways/main.ts), and Debian's nats-server.
// A separate process for each matters twice: the load generator must not share
// the server's CPU time, and RSS must be the server's own.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { commandAvailable, freePort, PROJECT_ROOT, stopChild, waitForOutput } from '../helpers/servers.ts';
import { track } from './child-registry.ts';

export const TARGETS = ['switchboard', 'nats-server'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface BenchServer {
  readonly name: TargetName;
  readonly port: number;
  readonly pid: number;
  /** True while the process is alive (a crash mid-scenario must fail the scenario). */
  readonly running: boolean;
  /** The last few KiB the server printed, for error messages. */
  readonly output: string;
  stop(): Promise<void>;
}

export interface ServerLaunch {
  /** Extra node flags for Switchboard, e.g. --cpu-prof (ignored for nats-server). */
  readonly nodeFlags: readonly string[];
}

const OUTPUT_KEEP = 4096;

export function targetInstalled(name: TargetName): boolean {
  return name === 'switchboard' || commandAvailable('nats-server');
}

/**
 * The registry kills servers when the bench exits normally or by a signal; only
 * a SIGKILL of the bench escapes it. setpriv's parent-death signal covers that
 * too, and it execs the server, so the pid (and its RSS) stays the server's.
 */
const DEATH_WRAPPER = commandAvailable('setpriv') ? ['setpriv', '--pdeathsig', 'KILL', '--'] : [];

function spawnServer(command: string[], cwd: string): ChildProcess {
  const [file, ...args] = [...DEATH_WRAPPER, ...command];
  return spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startBenchServer(name: TargetName, launch: ServerLaunch): Promise<BenchServer> {
  const port = await freePort();
  const child = track(name === 'switchboard'
    ? spawnServer([process.execPath, ...launch.nodeFlags, '--import', 'tsx', 'gateways/main.ts', '-a', '127.0.0.1', '-p', String(port)], PROJECT_ROOT)
    : spawnServer(['nats-server', '-a', '127.0.0.1', '-p', String(port)], PROJECT_ROOT));
  let output = '';
  // Keep reading so a chatty server never blocks on a full pipe.
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEEP);
  };
  try {
    await waitForOutput(child, name === 'switchboard' ? 'NATS listening' : 'Server is ready', 20_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return describe(name, port, child, () => output);
}

function describe(name: TargetName, port: number, child: ChildProcess, output: () => string): BenchServer {
  if (child.pid === undefined) throw new Error(`${name} has no pid`);
  const pid = child.pid;
  return {
    name,
    port,
    pid,
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    get output() {
      return output();
    },
    stop: () => stopChild(child),
  };
}

/** Resident set size of a process in KiB, from /proc/<pid>/status (Linux). */
export function readRssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Kernel clock ticks per second, the unit of CPU times in /proc/<pid>/stat. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU time (user + system, all threads) a process has used, in seconds.
 * Throughput per CPU-second compares how much work each server does per unit
 * of CPU, whatever share of a busy machine it was given. Read from each
 * thread's /proc/<pid>/task/<tid>/schedstat (nanoseconds): /proc/<pid>/stat
 * counts clock ticks (10 ms), and a quick run's 200,000 publishes take 2-4 of
 * them, so a per-CPU ratio from ticks jumped by 2x from one tick to the next
 * (last session's "pub-only per CPU 0.40 -> 0.20"). The servers' threads live
 * as long as they do, so none's time is lost by exiting between two readings.
 */
export function readCpuSeconds(pid: number): number {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return readCpuTicksSeconds(pid);
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended after the directory was read.
    }
  }
  return ns > 0 ? ns / 1e9 : readCpuTicksSeconds(pid);
}

/** The same from /proc/<pid>/stat, in clock ticks, where schedstat is missing (a kernel without schedstats). */
function readCpuTicksSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces; fields after its closing ')' start at state (field 3).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return (utime + stime) / CLOCK_TICKS;
}
