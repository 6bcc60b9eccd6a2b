// Turns per-target outcomes into the comparison table printed at the end of a
// run and the JSON written to .bench/results.json.

import type { TargetName } from './bench-servers.ts';
import type { Figure } from './scenarios.ts';

export type RunOutcome =
  | { readonly scenario: string; readonly target: TargetName; readonly figures: readonly Figure[] }
  | { readonly scenario: string; readonly target: TargetName; readonly error: string };

export interface ComparisonRow {
  readonly scenario: string;
  readonly metric: string;
  readonly unit: string;
  readonly better: Figure['better'] | null;
  /** The representative run per target (see `representative`); null when every run failed or the target was skipped. */
  readonly switchboard: Figure | null;
  readonly natsServer: Figure | null;
  /** Every run's value, in run order, for judging the spread. */
  readonly runs: Partial<Record<TargetName, number[]>>;
  /** switchboard ÷ nats-server, whatever the direction; null without both figures. */
  readonly ratio: number | null;
  /** Throughput rows: the same ratio per second of server CPU time (less sensitive to the CPU share each got). */
  readonly cpuRatio: number | null;
  readonly target: NonNullable<Figure['target']> | null;
  readonly targetMet: boolean | null;
  /** Notes from every run (time cap hit, messages lost, ...), labelled by target and run. */
  readonly notes: string[];
  readonly errors: Partial<Record<TargetName, string>>;
}

interface RowDraft {
  readonly scenario: string;
  readonly figures: Partial<Record<TargetName, Figure[]>>;
  readonly errors: Partial<Record<TargetName, string>>;
  template: Figure | null;
}

/** Group repeated runs by metric and target; each cell is the representative run. */
export function compare(outcomes: readonly RunOutcome[]): ComparisonRow[] {
  const drafts = new Map<string, RowDraft>();
  const draftFor = (key: string, scenario: string): RowDraft => {
    const existing = drafts.get(key);
    if (existing !== undefined) return existing;
    const created: RowDraft = { scenario, figures: {}, errors: {}, template: null };
    drafts.set(key, created);
    return created;
  };
  for (const outcome of outcomes) {
    if ('error' in outcome) {
      // A failed run shows on the scenario's rows; key by scenario so it is never lost.
      draftFor(`error:${outcome.scenario}`, outcome.scenario).errors[outcome.target] = outcome.error;
      continue;
    }
    for (const figure of outcome.figures) {
      const draft = draftFor(figure.metric, outcome.scenario);
      draft.template ??= figure;
      (draft.figures[outcome.target] ??= []).push(figure);
    }
  }
  return [...drafts.values()].map(({ scenario, figures, errors, template }) => {
    const ours = representative(figures.switchboard);
    const theirs = representative(figures['nats-server']);
    const ratio = ours !== null && theirs !== null && theirs.value > 0 ? ours.value / theirs.value : null;
    const cpuRatio = ours?.perCpuSecond !== undefined && theirs?.perCpuSecond !== undefined && theirs.perCpuSecond > 0 ? ours.perCpuSecond / theirs.perCpuSecond : null;
    const target = template?.target ?? null;
    const targetMet = target === null || ratio === null ? null : target.op === '>=' ? ratio >= target.ratio : ratio <= target.ratio;
    const runs: Partial<Record<TargetName, number[]>> = {};
    const notes: string[] = [];
    for (const [name, list] of Object.entries(figures) as Array<[TargetName, Figure[]]>) {
      runs[name] = list.map((f) => f.value);
      list.forEach((f, i) => notes.push(...f.notes.map((note) => `${name} run ${i + 1}: ${note}`)));
    }
    return {
      scenario,
      metric: template?.metric ?? `${scenario} (failed)`,
      unit: template?.unit ?? '',
      better: template?.better ?? null,
      switchboard: ours,
      natsServer: theirs,
      runs,
      ratio,
      cpuRatio,
      target,
      targetMet,
      notes,
      errors,
    };
  });
}

/**
 * Throughput (higher is better) takes the best run: other work on a shared
 * machine can only slow a run down, so the best is the least disturbed.
 * Latency and memory take the median (latency is already measured paired).
 */
function representative(figures: readonly Figure[] | undefined): Figure | null {
  if (figures === undefined || figures.length === 0) return null;
  const sorted = [...figures].sort((a, b) => a.value - b.value);
  return sorted[0].better === 'higher' ? sorted[sorted.length - 1] : sorted[Math.floor(sorted.length / 2)];
}

export function formatTable(rows: readonly ComparisonRow[]): string {
  const header = ['scenario', 'unit', 'switchboard', 'nats-server', 'ours/theirs', 'per CPU-s', 'target'];
  const body = rows.map((row) => [
    row.metric,
    `${row.unit}${row.better === 'higher' ? ' ↑' : row.better === 'lower' ? ' ↓' : ''}`,
    cell(row.switchboard, row.runs.switchboard, row.errors.switchboard),
    cell(row.natsServer, row.runs['nats-server'], row.errors['nats-server']),
    row.ratio === null ? '-' : `${row.ratio.toFixed(2)}×`,
    row.cpuRatio === null ? '' : `${row.cpuRatio.toFixed(2)}×`,
    row.target === null ? '' : `${row.target.op === '>=' ? '≥' : '≤'} ${row.target.ratio}× ${row.targetMet === null ? '' : row.targetMet ? 'met' : 'MISSED'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 1 || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const notes = rows.flatMap((row) => [
    ...row.notes.map((n) => `  note (${row.metric}) ${n}`),
    ...Object.entries(row.errors).map(([target, e]) => `  error (${row.scenario}, ${target}): ${e}`),
  ]);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    '↑ higher is better, ↓ lower is better; ours/theirs = switchboard ÷ nats-server (for ↓ rows, below 1 means we are better).',
    'per CPU-s: the same ratio per second of server CPU (all threads); it shows efficiency apart from the CPU share each',
    'server got, which differs on a busy machine (the kernel shares CPU per thread: nats-server runs several, Switchboard one).',
    'Cells: best run for ↑ rows (interference only slows a run), median for ↓ rows; ±N% is half the range of all runs.',
    ...notes,
  ].join('\n');
}

/** The representative value, with the half-range of all runs as a percentage so noise is visible. */
function cell(figure: Figure | null, runs: readonly number[] | undefined, error: string | undefined): string {
  if (figure === null) return error === undefined ? '-' : 'error';
  const value = formatValue(figure.value, figure.unit);
  if (runs === undefined || runs.length < 2 || figure.value === 0) return value;
  const spread = (Math.max(...runs) - Math.min(...runs)) / 2 / figure.value;
  return `${value} ±${Math.round(spread * 100)}%`;
}

export function formatValue(value: number, unit: string): string {
  if (unit === 'MiB') return value.toFixed(2);
  if (unit === 'µs') return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}
