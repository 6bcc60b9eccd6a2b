// Command line of `npm run bench:core -- [options]`.

import { parseArgs } from 'node:util';
import { TARGETS, type TargetName } from './bench-servers.ts';
import { SCENARIOS } from './scenarios.ts';

export interface BenchOptions {
  readonly only: readonly string[];
  readonly quick: boolean;
  /** Runs per scenario and target (the machine is shared and noisy); see report.ts for how they are summarised. */
  readonly repeat: number;
  readonly targets: readonly TargetName[];
  /** Run Switchboard under --cpu-prof; profiles land in this directory. */
  readonly cpuProfDir: string | null;
  readonly output: string;
  readonly help: boolean;
}

export const USAGE = `Usage: npm run bench:core -- [options]

  --only <names>     comma-separated scenarios: an exact name, or a part of names: ${SCENARIOS.map((s) => s.name).join(', ')}
  --quick            about a tenth of the messages, a 5 s cap per run, one run each
  --repeat <n>       runs per scenario and server (default 3, quick 1); the table shows
                     the best run for throughput and the median for latency and memory
  --target <name>    only one server: ${TARGETS.join(' or ')}
  --cpu-prof         run Switchboard with node --cpu-prof; profiles go to .bench/profiles/<scenario>-<run>/
                     (the main thread's is CPU.*.<pid>.0.*.cpuprofile; summarise it with
                      npx tsx test/bench/profile-summary.ts <file>)
  --output <file>    where to write the JSON results (default .bench/results.json)
  -h, --help         show this help
`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      repeat: { type: 'string' },
      target: { type: 'string' },
      'cpu-prof': { type: 'boolean' },
      output: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const only = (values.only ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
  let targets: readonly TargetName[] = TARGETS;
  if (values.target !== undefined) {
    const wanted = TARGETS.find((t) => t === values.target);
    if (wanted === undefined) throw new Error(`--target must be one of ${TARGETS.join(', ')}, got ${JSON.stringify(values.target)}`);
    targets = [wanted];
  }
  const quick = values.quick ?? false;
  const repeat = values.repeat === undefined ? (quick ? 1 : 3) : Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) throw new Error(`--repeat must be an integer from 1 to 20, got ${JSON.stringify(values.repeat)}`);
  return {
    only,
    quick,
    repeat,
    targets,
    cpuProfDir: values['cpu-prof'] ? '.bench/profiles' : null,
    output: values.output ?? '.bench/results.json',
    help: values.help ?? false,
  };
}
