// Malformed MQTT input never hurts others (issue 29 item 4): random and
// mutated frames over many connections, some lingering half-sent, against a
// live Switchboard process and against mosquitto, while a healthy mqtt.js
// client keeps connecting and doing a QoS 1 round trip, during and after.
// The server's RSS must stay bounded. Seeded: FUZZ_SEED=<n> replays a run;
// MQTT_FUZZ_MS=<ms> runs longer than the suite's 15 s.

import assert from 'node:assert/strict';
import { fuzzMqtt, processRss, type FuzzReport } from '../helpers/mqtt-fuzz.ts';
import { startMosquitto } from '../helpers/mqtt.ts';
import { describe, it } from '../helpers/peer-test.ts';
import { startSwitchboardProcess } from '../helpers/servers.ts';

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const durationMs = Number(process.env.MQTT_FUZZ_MS ?? 15_000);
/** What fuzzing may add to a server's RSS (the issue saw 136 MB -> 2.3 GB in 60 s). */
const RSS_GROWTH_LIMIT = 200 * 1024 * 1024;
const MB = 1024 * 1024;

function check(name: string, report: FuzzReport): void {
  const mb = (n: number | null): string => (n === null ? '?' : `${Math.round(n / MB)} MB`);
  process.stdout.write(
    `${name}: seed ${report.seed}, ${report.connections} fuzz connections, ${report.bytesSent} bytes, ` +
      `${report.healthChecks} health checks (slowest ${report.slowestHealthMs} ms), RSS ${mb(report.rssBefore)} -> peak ${mb(report.rssPeak)}\n`,
  );
  assert.ok(report.connections > 100, `the fuzzer made connections (${report.connections})`);
  assert.deepEqual(report.healthFailures, [], `a healthy client kept connecting (FUZZ_SEED=${seed} replays)`);
  if (report.rssBefore !== null && report.rssPeak !== null) {
    assert.ok(report.rssPeak - report.rssBefore < RSS_GROWTH_LIMIT, `RSS grew ${mb(report.rssPeak - report.rssBefore)} (FUZZ_SEED=${seed} replays)`);
  }
}

describe('mqtt fuzz', () => {
  it('mqtt fuzz - switchboard: random and mutated frames leave memory bounded and healthy clients served', async () => {
    process.stdout.write(`fuzz seed ${seed} (FUZZ_SEED=${seed} replays it)\n`);
    const server = await startSwitchboardProcess();
    try {
      const port = server.gateways.mqtt as number;
      check('switchboard', await fuzzMqtt({ name: 'switchboard', port, rss: () => processRss(server.child.pid) }, { seed, durationMs }));
      assert.equal(server.child.exitCode, null, 'the server process is still running');
    } finally {
      await server.stop();
    }
  });

  it('mqtt fuzz - mosquitto: the same run (the fuzzer asks nothing a reference broker fails)', { peers: ['mosquitto'] }, async () => {
    const mosquitto = await startMosquitto();
    try {
      check('mosquitto', await fuzzMqtt({ name: 'mosquitto', port: mosquitto.port, rss: () => processRss(mosquitto.pid) }, { seed, durationMs }));
    } finally {
      await mosquitto.stop();
    }
  });
});
