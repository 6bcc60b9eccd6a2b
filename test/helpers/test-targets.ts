// Which deployment a test ran against, for the run summary (run-summary.ts).
// Suites name their target as a "(target)" suffix (CONVENTIONS 7: "<area> (<target>)",
// target.name from the helpers' target lists); tests named after a peer they drive
// count for it. Names, not files: node reports a test's location, which for tests
// registered through peer-test.ts is that helper.

export const TARGETS = ['embedded', 'nats-server', 'cluster', 'mosquitto', 'chromium'] as const;
export type Target = (typeof TARGETS)[number];

/** Target names of the helpers' lists (servers.ts, jetstream.ts, mqtt.ts, ...) and what they count as. */
const SUFFIXES: Record<string, Target> = {
  switchboard: 'embedded',
  embedded: 'embedded',
  'nats-server': 'nats-server',
  'nats-server-new': 'nats-server',
  'nats-broker on nats-server': 'nats-server',
  cluster: 'cluster',
  'nats-server cluster': 'cluster',
  mosquitto: 'mosquitto',
};

/** `names`: the test's suites, outermost first, then its own name. */
export function classifyTarget(names: readonly string[]): Target {
  for (const name of names) {
    const suffix = /\(([^()]+)\)$/.exec(name)?.[1];
    if (suffix !== undefined && suffix in SUFFIXES) return SUFFIXES[suffix];
  }
  const all = names.join(' ');
  if (/chromium/.test(all)) return 'chromium';
  if (/mosquitto/.test(all)) return 'mosquitto';
  if (/nats-server/.test(all)) return 'nats-server';
  return 'embedded';
}
