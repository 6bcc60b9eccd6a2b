// Nats-TTL values and Go durations (ADR-43; nats-server stream.go parseMessageTTL, Go's time.ParseDuration and Duration.String).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JetStreamApiError } from '../../core/protocol/jetstream-api-error.ts';
import { formatGoSeconds, parseGoDuration, parseMessageTtl, TTL_NEVER } from '../../core/jetstream/message-ttl.ts';

describe('message ttl', () => {
  it('message ttl - Go durations parse to nanoseconds; anything else is null', () => {
    assert.equal(parseGoDuration('1h30m'), 5400e9);
    assert.equal(parseGoDuration('1.5s'), 1.5e9);
    assert.equal(parseGoDuration('250ms'), 250e6);
    assert.equal(parseGoDuration('-2m'), -120e9);
    assert.equal(parseGoDuration('0'), 0);
    for (const bad of ['', '5', '1x', 's', '1h 2m']) assert.equal(parseGoDuration(bad), null, bad);
  });

  it('message ttl - Nats-TTL: seconds, durations, never; under a second or unreadable is 10165', () => {
    assert.equal(parseMessageTtl('never'), TTL_NEVER);
    assert.equal(parseMessageTtl('NEVER'), TTL_NEVER);
    assert.equal(parseMessageTtl('90'), 90);
    assert.equal(parseMessageTtl('1m30s'), 90);
    assert.equal(parseMessageTtl('1.9s'), 1);
    for (const bad of ['0', '0s', '999ms', '-1', 'soon', '1e3']) {
      assert.throws(() => parseMessageTtl(bad), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10165, bad);
    }
  });

  it('message ttl - whole seconds print as Go prints a Duration', () => {
    assert.deepEqual([1, 60, 90, 3600, 3661, 0].map(formatGoSeconds), ['1s', '1m0s', '1m30s', '1h0m0s', '1h1m1s', '0s']);
  });
});
