// `npm run bench:core` (the core section of `npm run bench`): runs each scenario against a fresh Switchboard process and,
// when installed, a fresh nats-server, side by side; prints the comparison and
// writes it to .bench/results.json. Not part of `npm test`.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { PROJECT_ROOT } from '../helpers/servers.ts';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.ts';
import { startBenchServer, targetInstalled, type TargetName } from './bench-servers.ts';
import { killAllChildren } from './child-registry.ts';
import { compare, formatTable, formatValue, type RunOutcome } from './report.ts';
import { FULL_SIZE, QUICK_SIZE, selectScenarios, type BenchSize, type Scenario } from './scenarios.ts';

/** Start `targets` (one, or all for a paired scenario), run the scenario once, stop them. */
async function runOnce(scenario: Scenario, targets: readonly TargetName[], run: number, size: BenchSize, options: BenchOptions): Promise<RunOutcome[]> {
  // One directory per run: tsx's loader thread writes its own profile beside the
  // main thread's (default names carry pid and thread id, so neither overwrites the other).
  // A 100 µs interval (default 1 ms) gives a few thousand samples per scenario.
  const nodeFlags = options.cpuProfDir === null ? [] : ['--cpu-prof', '--cpu-prof-interval=100', `--cpu-prof-dir=${options.cpuProfDir}/${scenario.name}-${run}`];
  const starts = targets.map((target) => startBenchServer(target, { nodeFlags }));
  const started = await Promise.allSettled(starts);
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const figures = await scenario.run(servers, size);
    const dead = servers.find((server) => !server.running);
    if (dead !== undefined) throw new Error(`${dead.name} exited during the run:\n${dead.output}`);
    return servers.map((server, i) => ({ scenario: scenario.name, target: server.name, figures: figures[i] }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const dead = servers.find((server) => !server.running);
    const detail = dead === undefined ? message : `${message}\n${dead.name} exited; last output:\n${dead.output}`;
    return targets.map((target) => ({ scenario: scenario.name, target, error: detail }));
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

function progressLine(outcome: RunOutcome, run: number, seconds: number): string {
  const head = `${outcome.scenario.padEnd(10)} #${run} ${outcome.target.padEnd(12)}`;
  if ('error' in outcome) return `${head} ERROR ${outcome.error.split('\n')[0]}`;
  const figures = outcome.figures.map((f) => {
    const perCpu = f.perCpuSecond === undefined ? '' : ` (${formatValue(f.perCpuSecond, f.unit)} per server CPU-s)`;
    const notes = f.notes.length > 0 ? ` (${f.notes.join('; ')})` : '';
    return `${f.metric}: ${formatValue(f.value, f.unit)} ${f.unit}${perCpu}${notes}`;
  });
  return `${head} ${figures.join(', ')}  [${seconds.toFixed(1)} s]`;
}

function environment(): Record<string, string | number> {
  const nats = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return {
    node: process.version,
    natsServer: nats.status === 0 ? nats.stdout.trim() : 'nats-server not installed',
    cpus: availableParallelism(),
    commit: commit.status === 0 ? commit.stdout.trim() : 'unknown',
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseBenchOptions(argv);
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const scenarios = selectScenarios(options.only);
  if (scenarios.length === 0) throw new Error(`no scenario matches --only ${options.only.join(',')}`);
  const targets = options.targets.filter((target) => {
    if (targetInstalled(target)) return true;
    process.stdout.write(`SKIPPED: ${target} not installed\n`);
    return false;
  });
  const size = options.quick ? QUICK_SIZE : FULL_SIZE;
  const env = environment();
  process.stdout.write(`bench: ${scenarios.map((s) => s.name).join(', ')} on ${targets.join(' and ')}${options.quick ? ' (quick)' : ''}, ${options.repeat} run(s) each; node ${env.node}, ${env.natsServer}, ${env.cpus} cpus\n`);

  const began = Date.now();
  const outcomes: RunOutcome[] = [];
  // Targets alternate within each scenario and repetition, so both see the
  // (shared, noisy) machine in about the same state.
  for (const scenario of scenarios) {
    for (let run = 1; run <= options.repeat; run++) {
      const groups = scenario.mode === 'paired' ? [targets] : targets.map((target) => [target]);
      for (const group of groups) {
        const t0 = Date.now();
        const results = await runOnce(scenario, group, run, size, options);
        outcomes.push(...results);
        for (const outcome of results) process.stdout.write(`${progressLine(outcome, run, (Date.now() - t0) / 1000)}\n`);
      }
    }
  }

  const rows = compare(outcomes);
  process.stdout.write(`\n${formatTable(rows)}\n`);
  const output = resolve(PROJECT_ROOT, options.output);
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, `${JSON.stringify({ generatedAt: new Date().toISOString(), quick: options.quick, repeat: options.repeat, size, environment: env, rows, outcomes }, null, 2)}\n`);
  process.stdout.write(`\nwrote ${options.output} in ${((Date.now() - began) / 1000).toFixed(0)} s\n`);
  return outcomes.some((o) => 'error' in o) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    killAllChildren();
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    killAllChildren();
    process.exit(2);
  },
);
