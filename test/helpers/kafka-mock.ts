// librdkafka's mock Kafka cluster, run by Debian's kcat, and kcat itself as an
// independent second Kafka client. The mock speaks the Kafka wire protocol on
// real loopback ports and auto-creates topics (4 partitions). Stopping it loses
// everything: a restarted mock is a new, empty cluster on new ports.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { commandAvailable, stopChild, waitForOutput } from './servers.ts';

export interface KafkaMock {
  readonly pid: number;
  /** The mock brokers' own addresses, in broker-id order (what kcat uses). */
  readonly brokers: string[];
  readonly bootstrap: string;
  stop(): Promise<void>;
}

export async function startKafkaMock(brokerCount = 3): Promise<KafkaMock> {
  // -C on a dummy topic keeps kcat (and so the mock cluster) alive until killed.
  const kcat = ['kcat', '-b', 'x', '-X', `test.mock.num.brokers=${brokerCount}`, '-C', '-t', '__keepalive', '-q'];
  // setpriv --pdeathsig: the mock dies with the test process even when that is killed (a timeout), never orphaned.
  const command = commandAvailable('setpriv') ? ['setpriv', '--pdeathsig', 'KILL', ...kcat] : kcat;
  const child: ChildProcess = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const seen = await waitForOutput(child, /replaced with (127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+)*)/, 10_000);
  child.stderr?.resume(); // keep draining so kcat never blocks on a full pipe
  const match = /replaced with (127\.0\.0\.1:[0-9]+(?:,127\.0\.0\.1:[0-9]+)*)/.exec(seen);
  const brokers = (match?.[1] ?? '').split(',');
  if (child.pid === undefined) throw new Error('kcat mock cluster did not start');
  return { pid: child.pid, brokers, bootstrap: brokers.join(','), stop: () => stopChild(child, 'SIGKILL') };
}

export interface KcatRecord {
  key: string | null;
  payload: string | null;
  headers: Array<[string, string]>;
  partition: number;
  offset: number;
  ts: number;
}

/** Produce one record with kcat (-k key, -H name=value repeated, value from stdin). */
export function kcatProduce(bootstrap: string, topic: string, record: { key?: string; value: string; headers?: Array<[string, string]> }): void {
  const args = ['-b', bootstrap, '-P', '-t', topic, '-z', 'none'];
  if (record.key !== undefined) args.push('-k', record.key);
  for (const [name, value] of record.headers ?? []) args.push('-H', `${name}=${value}`);
  // -D with a delimiter that never occurs keeps the value byte-exact (no newline split).
  args.push('-D', '\u0001');
  const result = spawnSync('kcat', args, { input: record.value, timeout: 15_000 });
  if (result.status !== 0) throw new Error(`kcat produce failed (${result.status}): ${result.stderr.toString()}`);
}

/** Consume `count` records from the beginning of a topic with kcat's JSON output. */
export function kcatConsume(bootstrap: string, topic: string, count: number, timeoutMs = 20_000): KcatRecord[] {
  const result = spawnSync('kcat', ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-c', String(count), '-J', '-q', '-X', 'check.crcs=true'], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  const records: KcatRecord[] = [];
  for (const line of result.stdout.toString().split('\n')) {
    if (line.trim() === '') continue;
    const json = JSON.parse(line) as { key: string | null; payload: string | null; headers?: string[]; partition: number; offset: number; ts: number };
    const headers: Array<[string, string]> = [];
    for (let i = 0; json.headers !== undefined && i + 1 < json.headers.length; i += 2) headers.push([json.headers[i], json.headers[i + 1]]);
    records.push({ key: json.key, payload: json.payload, headers, partition: json.partition, offset: json.offset, ts: json.ts });
  }
  if (records.length < count) throw new Error(`kcat read ${records.length} of ${count} records from ${topic}: ${result.stderr.toString().slice(0, 500)}`);
  return records;
}
