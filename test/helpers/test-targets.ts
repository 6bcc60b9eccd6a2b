// Which deployment a test ran against, for the run summary (summary-reporter.ts).
// Suites name their target as a "(target)" suffix (CONVENTIONS 7: "<area> (<target>)",
// target.name from the helpers' target lists); files whose every test runs on one
// reference are listed here; tests named after a peer they drive count for it.

export const TARGETS = ['embedded', 'nats-server', 'cluster', 'mosquitto', 'chromium'] as const;
export type Target = (typeof TARGETS)[number];

/** Files whose tests all run on a nats-server cluster (NatsBroker, gateway processes, failover). */
const CLUSTER_FILES = new Set([
  'cli-cluster.test.ts',
  'cluster-failover.test.ts',
  'http-cluster-mode.test.ts',
  'mqtt-gateway-failover.test.ts',
  'websocket-relay.test.ts',
]);

/** Target names of the helpers' lists (servers.ts, jetstream.ts, mqtt.ts, ...) and what they count as. */
const SUFFIXES: Record<string, Target> = {
  switchboard: 'embedded',
  embedded: 'embedded',
  'nats-server': 'nats-server',
  'nats-broker on nats-server': 'nats-server',
  cluster: 'cluster',
  mosquitto: 'mosquitto',
};

/** `names`: the test's suites, outermost first, then its own name. */
export function classifyTarget(file: string, names: readonly string[]): Target {
  if (CLUSTER_FILES.has(file)) return 'cluster';
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
