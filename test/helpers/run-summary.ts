// The test command's reporter (summary-reporter.mjs loads it): node's spec output,
// then what ran (issue 27, item 6).
// A green line alone does not say whether the reference and cluster targets ran, so
// the run ends with, per target, the tests that passed, failed and were skipped, the
// skips grouped by reason, and a warning for a target with no tests registered; then
// the runner's own totals as `# tests N` / `# pass N` / `# fail N` lines and a plain
// `N passed, N failed` line, which is what CI reads. The exit code stays node's.

import { Transform, type TransformCallback } from 'node:stream';
import { spec } from 'node:test/reporters';
import { classifyTarget, TARGETS, type Target } from './test-targets.ts';

interface TestEventData {
  name?: string;
  nesting?: number;
  file?: string;
  skip?: string | boolean;
  todo?: string | boolean;
  message?: string;
  details?: { type?: string };
}

interface TestEvent {
  type: string;
  data?: TestEventData;
}

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  todo: number;
}

/** Counts leaf tests per target and skip reasons, from the runner's event stream. */
class RunSummary {
  readonly #byTarget = new Map<Target, Tally>(TARGETS.map((target) => [target, { passed: 0, failed: 0, skipped: 0, todo: 0 }]));
  readonly #skipReasons = new Map<string, number>();
  /** Suite names above the test now starting, by nesting (test:start comes in order per file). */
  readonly #path: string[] = [];
  /** The runner's closing diagnostics ("tests 950", "pass 948", ...). */
  readonly #totals = new Map<string, number>();

  add(event: TestEvent): void {
    const data = event.data ?? {};
    const nesting = data.nesting ?? 0;
    if (event.type === 'test:start') {
      this.#path.length = nesting;
      this.#path[nesting] = data.name ?? '';
    } else if ((event.type === 'test:pass' || event.type === 'test:fail') && data.details?.type !== 'suite') {
      const names = [...this.#path.slice(0, nesting), data.name ?? ''];
      const tally = this.#byTarget.get(classifyTarget(names)) as Tally;
      // A todo test does not fail the run, pass or fail: the runner counts it under todo.
      if (data.todo !== undefined && data.todo !== false) tally.todo++;
      else if (event.type === 'test:fail') tally.failed++;
      else if (data.skip !== undefined && data.skip !== false) {
        tally.skipped++;
        const reason = typeof data.skip === 'string' ? data.skip : 'skipped';
        this.#skipReasons.set(reason, (this.#skipReasons.get(reason) ?? 0) + 1);
      } else tally.passed++;
    } else if (event.type === 'test:diagnostic' && data.file === undefined && nesting === 0) {
      const match = /^(\w+) (\d+(?:\.\d+)?)$/.exec(data.message ?? '');
      if (match !== null) this.#totals.set(match[1], Number(match[2]));
    }
  }

  render(): string {
    const lines = ['', 'What ran, per target (a test is counted once, by its suite\'s target):'];
    lines.push(`  ${'target'.padEnd(12)} ${'passed'.padStart(7)} ${'failed'.padStart(7)} ${'skipped'.padStart(8)} ${'todo'.padStart(5)}`);
    for (const [target, t] of this.#byTarget) {
      const note = t.passed + t.failed + t.skipped + t.todo === 0 ? '  NOT REGISTERED: no test of this target ran or was skipped' : '';
      lines.push(`  ${target.padEnd(12)} ${String(t.passed).padStart(7)} ${String(t.failed).padStart(7)} ${String(t.skipped).padStart(8)} ${String(t.todo).padStart(5)}${note}`);
    }
    lines.push(this.#skipReasons.size === 0 ? 'Skipped: none' : 'Skipped, by reason:');
    for (const [reason, count] of [...this.#skipReasons].sort((a, b) => b[1] - a[1])) lines.push(`  ${String(count).padStart(5)}  ${reason}`);
    // The runner's totals, in its own words, last: CI judges the run by these lines.
    const total = (key: string): number => this.#totals.get(key) ?? 0;
    for (const key of ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) lines.push(`# ${key} ${total(key)}`);
    lines.push(`${total('pass')} passed, ${total('fail') + total('cancelled')} failed`, '');
    return lines.join('\n');
  }
}

class SummaryReporter extends Transform {
  readonly #spec = new spec();
  readonly #summary = new RunSummary();

  constructor() {
    super({ writableObjectMode: true });
    this.#spec.on('data', (chunk: string | Buffer) => this.push(chunk));
  }

  override _transform(event: TestEvent, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#summary.add(event);
    this.#spec.write(event, () => done());
  }

  override _flush(done: TransformCallback): void {
    this.#spec.once('end', () => {
      this.push(this.#summary.render());
      done();
    });
    this.#spec.end();
  }
}

/** A fresh reporter: spec's output, then the summary. */
export function summaryReporter(): Transform {
  return new SummaryReporter();
}
