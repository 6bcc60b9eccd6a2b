// The JetStream client library's one timestamp form: RFC 3339 UTC with nine
// fraction digits, from an ack subject's nanoseconds or nats-server's RFC3339Nano.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rfc3339FromNanos, rfc3339Nanos } from '../../core/jetstream-client/timestamp.ts';

describe('jetstream client timestamps', () => {
  it('timestamp - ack-subject nanoseconds keep every digit', () => {
    assert.equal(rfc3339FromNanos('1767323045123456789'), '2026-01-02T03:04:05.123456789Z');
    assert.equal(rfc3339FromNanos('1767323045000000000'), '2026-01-02T03:04:05.000000000Z');
    assert.equal(rfc3339FromNanos('5'), '1970-01-01T00:00:00.000000005Z');
  });

  it("timestamp - Go's trimmed RFC3339Nano is padded to nine digits; other forms pass through", () => {
    assert.equal(rfc3339Nanos('2026-01-02T03:04:05.12Z'), '2026-01-02T03:04:05.120000000Z');
    assert.equal(rfc3339Nanos('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000000000Z');
    assert.equal(rfc3339Nanos('2026-01-02T03:04:05.123456789Z'), '2026-01-02T03:04:05.123456789Z');
    assert.equal(rfc3339Nanos('2026-01-02T03:04:05.1+02:00'), '2026-01-02T03:04:05.1+02:00');
    // Equal length, so strings sort in time order.
    const times = ['2026-01-02T03:04:05.5Z', '2026-01-02T03:04:05.25Z', '2026-01-02T03:04:05Z'].map(rfc3339Nanos);
    assert.deepEqual([...times].sort(), [times[2], times[1], times[0]]);
  });
});
