// Issue 29 item 0: MQTT wildcard subscribers see user traffic only. A `#`
// subscriber once received the gateway's own JetStream API replies
// (`_INBOX/...`) and, by being a responder to every internal request, made each
// CONNECT wait out the session handover's timeouts, so publishers stalled and
// subscribers saw only the first of three messages. The same case runs with
// mosquitto_sub / mosquitto_pub against the gateway (in memory and with its
// state in JetStream, the `npm start` default) and against Debian's mosquitto.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pub, startSub } from '../helpers/mosquitto-clients.ts';
import { startMosquitto, startSwitchboardMqtt, startSwitchboardMqttJetStream, until, type MqttTarget } from '../helpers/mqtt.ts';
import type { Peer } from '../helpers/peers.ts';
import { stopChild } from '../helpers/servers.ts';

type Target = MqttTarget & { natsUrl?: string };

const dirs: string[] = [];
const CLIENTS: readonly Peer[] = ['mosquitto_pub', 'mosquitto_sub'];
const targets: Array<{ name: string; peers: readonly Peer[]; start: () => Promise<Target> }> = [
  { name: 'switchboard memory', peers: CLIENTS, start: () => startSwitchboardMqtt() },
  { name: 'switchboard jetstream', peers: CLIENTS, start: () => startSwitchboardMqttJetStream(dirs[dirs.push(mkdtempSync(join(tmpdir(), 'mqtt-iso-'))) - 1]) },
  { name: 'mosquitto', peers: [...CLIENTS, 'mosquitto'], start: startMosquitto },
];

/** A publisher that stalls (a CONNECT waiting out handover timeouts) fails this. */
const PUBLISH_BOUND_MS = 3_000;

for (const target of targets) {
  describe(`mqtt wildcard isolation (${target.name})`, { peers: target.peers }, () => {
    let t: Target;
    before(async () => {
      t = await target.start();
    });
    after(async () => {
      await t.stop();
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    });

    for (const version of ['mqttv311', 'mqttv5']) {
      it(`mqtt - '#' and 'a/#' subscribers (one persistent) each get all three QoS 1 messages and no internal topic (${version})`, async () => {
        const format = ['-F', 'MSG %t %p'];
        const persistent = version === 'mqttv5' ? ['-c', '-i', `iso-${version}`, '-x', '60'] : ['-c', '-i', `iso-${version}`];
        const subs = [
          await startSub(t.port, ['-V', version, '-q', '1', '-t', '#', ...format]),
          await startSub(t.port, ['-V', version, '-q', '1', '-t', 'iso/#', ...format]),
          await startSub(t.port, ['-V', version, '-q', '1', '-t', '#', ...persistent, ...format]),
        ];
        try {
          // Internal traffic while they listen: a request to a `$` subject nobody serves (the
          // '#'s are no responders there), a JetStream API call.
          if (t.natsUrl !== undefined) {
            const nc: NatsConnection = await connect({ servers: t.natsUrl });
            await assert.rejects(nc.request('$ISO.nobody', 'x', { timeout: 1_000 }), /no responders|503/i);
            await nc.request('$JS.API.INFO', '', { timeout: 2_000 }).catch(() => undefined);
            await nc.close();
          }
          for (const m of ['m1', 'm2', 'm3']) {
            const began = Date.now();
            const r = await pub(t.port, version, ['-q', '1', '-t', 'iso/c', '-m', m]);
            assert.equal(r.code, 0, r.out);
            assert.ok(Date.now() - began < PUBLISH_BOUND_MS, `mosquitto_pub of ${m} took ${Date.now() - began} ms`);
          }
          const expected = ['MSG iso/c m1', 'MSG iso/c m2', 'MSG iso/c m3'];
          // '#' sees only user topics: the three messages, maybe other tests' leftovers, nothing internal.
          await until(() => subs.every((s) => s.lines().filter((l) => l.startsWith('MSG iso/')).length >= 3), 'all three at every subscriber');
          for (const s of subs) {
            assert.deepEqual(s.lines().filter((l) => l.startsWith('MSG iso/')), expected);
            const internal = s.lines().filter((l) => /^MSG (\$|_INBOX)/.test(l));
            assert.deepEqual(internal, [], 'an internal topic reached a wildcard subscriber');
          }
        } finally {
          for (const s of subs) await stopChild(s.child);
        }
      });
    }
  });
}
