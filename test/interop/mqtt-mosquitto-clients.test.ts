// Debian's mosquitto_pub / mosquitto_sub (-V mqttv311 and -V mqttv5) as child
// processes against the gateway, with NATS on the other side where it helps.

import assert from 'node:assert/strict';
import { after, before, describe, it } from '../helpers/peer-test.ts';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startSwitchboardMqtt, until, type SwitchboardMqtt } from '../helpers/mqtt.ts';
import { pub, run, startSub } from '../helpers/mosquitto-clients.ts';
import { stopChild } from '../helpers/servers.ts';

const VERSIONS = [['mqttv311', 'v3.1.1'], ['mqttv5', 'v5']] as const;

describe('mqtt with mosquitto clients', { peers: ['mosquitto_pub', 'mosquitto_sub'] }, () => {
  let sb: SwitchboardMqtt;
  let nc: NatsConnection;
  before(async () => {
    sb = await startSwitchboardMqtt();
    nc = await connect({ servers: sb.natsUrl });
  });
  after(async () => {
    await nc.close();
    await sb.stop();
  });

  for (const [version, label] of VERSIONS) {
    it(`mqtt - mosquitto_pub QoS 0/1/2 reaches mosquitto_sub (${label})`, async () => {
      const sub = await startSub(sb.port, ['-V', version, '-q', '2', '-t', `mos/${label}/#`, '-F', 'MSG %t %q %p']);
      for (const qos of ['0', '1', '2']) {
        const r = await pub(sb.port, version, ['-q', qos, '-t', `mos/${label}/q${qos}`, '-m', `m${qos}`]);
        assert.equal(r.code, 0, r.out);
      }
      await until(() => sub.lines().length === 3, 'three messages');
      assert.deepEqual(sub.lines().sort(), [`MSG mos/${label}/q0 0 m0`, `MSG mos/${label}/q1 1 m1`, `MSG mos/${label}/q2 2 m2`]);
      await stopChild(sub.child);
    });

    it(`mqtt - a retained message from mosquitto_pub is read by a later mosquitto_sub (${label})`, async () => {
      const r = await pub(sb.port, version, ['-r', '-q', '1', '-t', `keep/${label}`, '-m', 'retained']);
      assert.equal(r.code, 0, r.out);
      const got = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(sb.port), '-V', version, '-t', `keep/${label}`, '-C', '1', '-W', '5', '-F', '%r %p']);
      assert.equal(got.out.trim(), '1 retained');
    });

    it(`mqtt - a persistent mosquitto_sub session gets messages queued while it was away (${label})`, async () => {
      const id = `mos-persist-${label}`;
      const session = version === 'mqttv5' ? ['-x', '300'] : [];
      const args = ['-V', version, '-q', '1', '-c', '-i', id, ...session, '-t', `away/${label}`, '-F', 'MSG %p'];
      const first = await startSub(sb.port, args);
      await stopChild(first.child, 'SIGKILL');
      for (const m of ['a', 'b', 'c']) await pub(sb.port, version, ['-q', '1', '-t', `away/${label}`, '-m', m]);
      const second = await startSub(sb.port, args);
      await until(() => second.lines().length === 3, 'three queued messages');
      assert.deepEqual(second.lines(), ['MSG a', 'MSG b', 'MSG c']);
      await stopChild(second.child);
    });
  }

  it('mqtt - mosquitto_pub -V mqttv5 user properties become NATS headers; NATS reaches mosquitto_sub', async () => {
    const got: Msg[] = [];
    nc.subscribe('props.mos', { callback: (_e, m) => { got.push(m); } });
    await nc.flush();
    const r = await pub(sb.port, 'mqttv5', ['-t', 'props/mos', '-m', 'x', '-D', 'publish', 'user-property', 'site', 'lab']);
    assert.equal(r.code, 0, r.out);
    await until(() => got.length === 1, 'NATS message');
    assert.equal(got[0].headers?.get('site'), 'lab');
    const sub = await startSub(sb.port, ['-V', 'mqttv5', '-t', 'fromnats/mos', '-F', 'MSG %t %p']);
    nc.publish('fromnats.mos', 'hi');
    await nc.flush();
    await until(() => sub.lines().length === 1, 'message from NATS');
    assert.deepEqual(sub.lines(), ['MSG fromnats/mos hi']);
    await stopChild(sub.child);
  });
});
