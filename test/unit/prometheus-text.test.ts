// The /metrics registry's encoder: families of one name from several parts
// merge under one HELP/TYPE, label values are escaped, histograms get
// cumulative buckets with +Inf, _sum and _count; a name with two types throws.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricTypeConflictError, prometheusText } from '../../core/server/monitoring/prometheus-text.ts';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.ts';

describe('prometheus text', () => {
  it('prometheus text - same-named families from several parts are one block', () => {
    const text = prometheusText([
      { name: 'x_total', type: 'counter', help: 'X', samples: [{ labels: { protocol: 'nats' }, value: 1 }] },
      { name: 'y', type: 'gauge', help: 'Y', samples: [{ value: 2 }] },
      { name: 'x_total', type: 'counter', help: 'X', samples: [{ labels: { protocol: 'mqtt "v5"\n' }, value: 3 }] },
    ]);
    assert.equal(text.match(/^# TYPE x_total counter$/gm)?.length, 1);
    const families = parsePrometheus(text);
    assert.equal(sampleValue(families, 'x_total', { protocol: 'nats' }), 1);
    assert.equal(sampleValue(families, 'x_total', { protocol: 'mqtt "v5"\n' }), 3);
    assert.equal(sampleValue(families, 'y'), 2);
  });

  it('prometheus text - a histogram has cumulative buckets, +Inf, _sum and _count', () => {
    const text = prometheusText([{ name: 'h_seconds', type: 'histogram', help: 'H', samples: [{ labels: { route: '/a' }, buckets: [[0.1, 1], [1, 3]], sum: 2.5, count: 4 }] }]);
    assert.equal(
      text,
      '# HELP h_seconds H\n# TYPE h_seconds histogram\nh_seconds_bucket{route="/a",le="0.1"} 1\nh_seconds_bucket{route="/a",le="1"} 3\nh_seconds_bucket{route="/a",le="+Inf"} 4\nh_seconds_sum{route="/a"} 2.5\nh_seconds_count{route="/a"} 4\n',
    );
    assert.deepEqual(parsePrometheus(text).get('h_seconds')?.metrics[0].buckets, { '0.1': '1', '1': '3', '+Inf': '4' });
  });

  it('prometheus text - one name with two types is refused', () => {
    assert.throws(
      () => prometheusText([
        { name: 'z', type: 'counter', help: 'Z', samples: [] },
        { name: 'z', type: 'gauge', help: 'Z', samples: [] },
      ]),
      MetricTypeConflictError,
    );
  });
});
