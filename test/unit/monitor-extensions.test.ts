// Monitor extensions: the seam through which parts core/server does not know
// (the Kafka bridge) add a JSON endpoint and /metrics series. Served over a real
// socket by MonitorServer; without an extension its path is a 404 as before.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MonitorServer } from '../../core/server/monitoring/monitor-server.ts';
import { getJson, startMonitoredSwitchboard } from '../helpers/monitoring.ts';
import { startSwitchboard } from '../helpers/servers.ts';

describe('monitor extensions', () => {
  it('monitor extensions - an extension answers its path and appends its series to /metrics', async () => {
    const running = await startSwitchboard();
    let calls = 0;
    const monitor = new MonitorServer(running.server, {
      host: '127.0.0.1',
      port: 0,
      extensions: [{ path: '/examplez', json: () => ({ calls: ++calls }), metrics: () => [{ name: 'example_total', type: 'counter', help: 'An example', samples: [{ value: 7 }] }] }],
    });
    await monitor.start();
    try {
      const first = await getJson(monitor.port, '/examplez');
      assert.equal(first.status, 200);
      assert.match(first.contentType ?? '', /application\/json/);
      assert.deepEqual(first.body, { calls: 1 });
      assert.deepEqual((await getJson(monitor.port, '/examplez')).body, { calls: 2 }, 'computed per request, not cached');
      const metrics = await getJson(monitor.port, '/metrics');
      assert.match(metrics.text, /^gnatsd_varz_connections\{server_id="[^"]+"\} \d+$/m);
      assert.ok(metrics.text.endsWith('example_total 7\n'), 'the extension series come after the core ones');
      assert.match((await getJson(monitor.port, '/')).text, /href="\.\/examplez"/);
    } finally {
      await monitor.stop();
      await running.stop();
    }
  });

  it('monitor extensions - without one, /kafkaz is not found; a path taken twice is refused', async () => {
    const monitored = await startMonitoredSwitchboard();
    try {
      assert.equal((await getJson(monitored.monitorPort, '/kafkaz')).status, 404);
      const extension = { path: '/varz', json: () => ({}), metrics: () => [] };
      assert.throws(() => new MonitorServer(monitored.server, { host: '127.0.0.1', port: 0, extensions: [extension] }), /\/varz is already taken/);
    } finally {
      await monitored.stop();
    }
  });
});
