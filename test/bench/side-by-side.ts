// The figures of the JetStream benches, Switchboard beside nats-server: every
// run per scenario and target as it happens, then a closing table with the
// median of each and the median of the per-round ratios (rounds alternate the
// targets, so a ratio compares two runs made under the same machine load).

import { readCpuSeconds } from './bench-servers.ts';

interface Row {
  scenario: string;
  unit: string;
  values: Map<string, number[]>;
}

/** CPU time (user + system, all threads) process `pid` has used so far, in µs (see readCpuSeconds). */
export function cpuMicros(pid: number): number {
  return readCpuSeconds(pid) * 1e6;
}

/** Node flags that make the Switchboard child write a CPU profile, from `--cpu-prof <dir>` on the bench's command line. */
export function profileFlags(): string[] {
  const at = process.argv.indexOf('--cpu-prof');
  return at >= 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[at + 1]}`] : [];
}

export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Rates are better higher; times, bytes and CPU per message lower. */
function lowerIsBetter(unit: string): boolean {
  return unit !== 'msgs/s';
}

function digits(unit: string): number {
  return unit.startsWith('µs') ? 2 : 0;
}

export class SideBySide {
  private readonly rows: Row[] = [];

  record(scenario: string, unit: string, target: string, value: number): void {
    let row = this.rows.find((r) => r.scenario === scenario);
    if (row === undefined) this.rows.push((row = { scenario, unit, values: new Map() }));
    row.values.set(target, [...(row.values.get(target) ?? []), value]);
    process.stdout.write(`${scenario.padEnd(40)} ${target.padEnd(12)} ${value.toFixed(digits(unit))} ${unit}\n`);
  }

  /** The closing table; the ratio reads "Switchboard is x times as good". */
  print(rounds: number): void {
    process.stdout.write(`\n${`median of ${rounds} round(s)`.padEnd(40)} switchboard   nats-server   ratio\n`);
    for (const r of this.rows) {
      const sbs = r.values.get('switchboard') ?? [];
      const nss = r.values.get('nats-server') ?? [];
      const n = Math.min(sbs.length, nss.length);
      const ratios = sbs.slice(0, n).map((sb, i) => (lowerIsBetter(r.unit) ? nss[i] / sb : sb / nss[i]));
      const sb = sbs.length > 0 ? median(sbs).toFixed(digits(r.unit)) : '-';
      const ns = nss.length > 0 ? median(nss).toFixed(digits(r.unit)) : '-';
      const ratio = ratios.length > 0 ? median(ratios).toFixed(2) : '-';
      process.stdout.write(`${r.scenario.padEnd(40)} ${sb.padStart(11)} ${ns.padStart(13)}   ${ratio} (${r.unit})\n`);
    }
  }
}
