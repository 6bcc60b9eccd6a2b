// Summarise a V8 .cpuprofile (from `npm run bench:core -- --cpu-prof`): the
// functions with the most self time and the most total time, so hot spots can
// be read without opening DevTools.
//
//   npx tsx test/bench/profile-summary.ts .bench/profiles/<file>.cpuprofile [top]

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { PROJECT_ROOT } from '../helpers/servers.ts';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

interface Tally {
  self: number;
  total: number;
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const file = frame.url.startsWith('file://') ? relative(PROJECT_ROOT, new URL(frame.url).pathname) : frame.url;
  // lineNumber is 0-based in the profile format.
  return `${name}  ${file}:${frame.lineNumber + 1}`;
}

/** Frames that only run once clients are connected: the start of the measured load. */
const LOAD_FRAMES = new Set(['onconnection', 'onStreamRead']);

/**
 * Index of the first sample taken while serving a client. Everything before it
 * is start-up (module loading under tsx), which would otherwise crowd the top.
 */
function firstLoadSample(profile: CpuProfile, byId: Map<number, ProfileNode>): number {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      if (LOAD_FRAMES.has(byId.get(id)?.callFrame.functionName ?? '')) return i;
    }
  }
  return 0;
}

export function summarise(profile: CpuProfile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  const skipped = firstLoadSample(profile, byId);
  if (profile.samples !== undefined) for (const id of profile.samples.slice(skipped)) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);
  const totalHits = [...hits.values()].reduce((a, b) => a + b, 0);
  // Percentages are of busy time: idle waiting for the load says nothing about hot spots.
  const idleHits = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((sum, n) => sum + (hits.get(n.id) ?? 0), 0);
  const busyHits = Math.max(1, totalHits - idleHits);
  // Sampling is regular, so the profile's average interval converts hits to time.
  const msPerHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples?.length ?? totalHits);

  const tallies = new Map<string, Tally>();
  const tally = (key: string): Tally => {
    let t = tallies.get(key);
    if (t === undefined) tallies.set(key, (t = { self: 0, total: 0 }));
    return t;
  };
  // Depth-first from the root; a function already on the stack is not counted twice in total.
  const walk = (id: number, onStack: Set<string>): number => {
    const node = byId.get(id);
    if (node === undefined) return 0;
    const key = label(node.callFrame);
    const own = hits.get(id) ?? 0;
    tally(key).self += own;
    const fresh = !onStack.has(key);
    if (fresh) onStack.add(key);
    let subtree = own;
    for (const child of node.children ?? []) subtree += walk(child, onStack);
    if (fresh) {
      onStack.delete(key);
      tally(key).total += subtree;
    }
    return subtree;
  };
  walk(profile.nodes[0].id, new Set());

  const rows = [...tallies.entries()].filter(([key]) => key !== '(idle)' && key !== '(root)');
  const format = (title: string, pick: (t: Tally) => number): string => {
    const lines = rows
      .sort((a, b) => pick(b[1]) - pick(a[1]))
      .slice(0, top)
      .map(([key, t]) => `${((pick(t) / busyHits) * 100).toFixed(1).padStart(5)}%  ${(pick(t) * msPerHit).toFixed(0).padStart(7)} ms  ${key}`);
    return [title, ...lines].join('\n');
  };
  return [
    `${totalHits} samples after start-up (${skipped} start-up samples left out), ${((idleHits / Math.max(1, totalHits)) * 100).toFixed(0)}% idle; percentages are of busy time`,
    format('self time:', (t) => t.self),
    '',
    format('total time (self + callees):', (t) => t.total),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: npx tsx test/bench/profile-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${summarise(profile, Number(topArg ?? 25))}\n`);
}
