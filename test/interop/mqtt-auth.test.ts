// Authentication through the shared Authorizer and permissions on the mapped
// subject: denied SUBSCRIBE -> 0x80 / 0x87, denied PUBLISH dropped (3.1.1) or
// refused with 0x87 (5).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Authorizer, Credentials, Principal } from '../../core/auth/authorizer.ts';
import { subjectIsSubsetOf } from '../../core/subject/subject.ts';
import { RawMqtt } from '../helpers/mqtt-raw.ts';
import { connectMqtt, Inbox, sleep, startSwitchboardMqtt, type SwitchboardMqtt } from '../helpers/mqtt.ts';

/** A tiny Authorizer: user "dev" may publish/subscribe only under dev.>, token "tok" may do anything. */
class TestAuthorizer implements Authorizer {
  readonly authRequired = true;
  authenticate(c: Credentials): Principal | null {
    if (c.token === 'tok') return { name: 'token', canPublish: () => true, canSubscribe: () => true };
    if (c.user === 'dev' && c.pass === 'secret') {
      return {
        name: 'dev',
        canPublish: (s) => subjectIsSubsetOf(s, 'dev.>'),
        canSubscribe: (s) => subjectIsSubsetOf(s, 'dev.>'),
      };
    }
    return null;
  }
}

describe('mqtt auth', () => {
  let sb: SwitchboardMqtt;
  before(async () => {
    sb = await startSwitchboardMqtt({ authorizer: new TestAuthorizer() });
  });
  after(async () => {
    await sb.stop();
  });

  it('mqtt - wrong or missing credentials are refused in CONNACK', async () => {
    await assert.rejects(connectMqtt(sb.mqttUrl, { protocolVersion: 4, username: 'dev', password: 'nope' }), /Bad username or password/i);
    await assert.rejects(connectMqtt(sb.mqttUrl, { protocolVersion: 5, username: 'dev', password: 'nope' }), /Bad User Name or Password/i);
    await assert.rejects(connectMqtt(sb.mqttUrl, { protocolVersion: 4 }), /Not authorized/i);
    await assert.rejects(connectMqtt(sb.mqttUrl, { protocolVersion: 5 }), /Not authorized/i);
  });

  it('mqtt - a token is accepted as the password', async () => {
    const c = await connectMqtt(sb.mqttUrl, { protocolVersion: 4, username: 'anything', password: 'tok' });
    await c.endAsync();
  });

  it('mqtt - denied subscribe gets 0x80 (3.1.1) and 0x87 (5); allowed ones are granted', async () => {
    // mqtt.js rejects a SUBACK holding a failure code, so this one speaks raw packets.
    for (const protocolVersion of [4, 5] as const) {
      const raw = await RawMqtt.open(sb.port, protocolVersion);
      await raw.connect(protocolVersion, { username: 'dev', password: Buffer.from('secret') });
      const subscriptions = [
        { topic: 'dev/+', qos: 1 as const },
        { topic: 'prod/x', qos: 0 as const },
        { topic: 'dev/#', qos: 0 as const }, // maps to dev.> and dev: the parent 'dev' is outside dev.>
      ];
      raw.write({ cmd: 'subscribe', messageId: 7, subscriptions }, protocolVersion);
      const suback = (await raw.next('suback')) as { granted: number[] };
      assert.deepEqual(suback.granted, protocolVersion === 5 ? [1, 0x87, 0x87] : [1, 0x80, 0x80]);
      raw.destroy();
    }
  });

  it('mqtt - denied publish is dropped (3.1.1) or refused with 0x87 (5)', async () => {
    const watcher = await connectMqtt(sb.mqttUrl, { protocolVersion: 4, username: 'w', password: 'tok' });
    const inbox = new Inbox(watcher);
    await watcher.subscribeAsync('#');
    const v4 = await connectMqtt(sb.mqttUrl, { protocolVersion: 4, username: 'dev', password: 'secret' });
    await v4.publishAsync('prod/x', 'v4-denied', { qos: 1 }); // acknowledged as usual [MQTT-3.3.5-2]
    const v5 = await connectMqtt(sb.mqttUrl, { protocolVersion: 5, username: 'dev', password: 'secret' });
    // mqtt.js turns a PUBACK reason code >= 0x80 into an error carrying the code.
    await assert.rejects(v5.publishAsync('prod/x', 'v5-denied', { qos: 1 }), (e: { code?: number }) => e.code === 0x87);
    await v5.publishAsync('dev/ok', 'allowed', { qos: 1 });
    await inbox.waitFor(1);
    await sleep(50);
    assert.deepEqual(inbox.payloads(), ['allowed']);
    await Promise.all([watcher.endAsync(), v4.endAsync(), v5.endAsync()]);
  });
});
