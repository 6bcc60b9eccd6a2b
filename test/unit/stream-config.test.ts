// The stream config mapper (wire JSON <-> internal), its validation, the error
// catalog's wire form and the RFC3339 timestamps nats-server writes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsError } from '../../core/jetstream/errors.ts';
import { JetStreamApiError } from '../../core/protocol/jetstream-api-error.ts';
import { formatTime, parseTime, ZERO_TIME } from '../../core/jetstream/rfc3339.ts';
import { DEFAULT_DUPLICATE_WINDOW, sameConfig, streamConfigFromWire, streamConfigToWire, storeLimitsOf, validateUpdate } from '../../core/jetstream/stream-config.ts';

function rejects(fn: () => unknown, errCode: number, description?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof JetStreamApiError);
    assert.equal(e.errCode, errCode);
    if (description !== undefined) assert.equal(e.description, description);
    return true;
  });
}

describe('stream config', () => {
  it('config - defaults follow nats-server: subjects = name, limits -1, file, 2 minute dedupe window', () => {
    const c = streamConfigFromWire({ name: 'S' });
    assert.deepEqual(c.subjects, ['S']);
    assert.equal(c.storage, 'file');
    assert.equal(c.retention, 'limits');
    assert.equal(c.discard, 'old');
    assert.deepEqual([c.maxMsgs, c.maxBytes, c.maxMsgsPerSubject, c.maxMsgSize, c.maxConsumers], [-1, -1, -1, -1, -1]);
    assert.equal(c.duplicateWindow, DEFAULT_DUPLICATE_WINDOW);
    assert.equal(streamConfigFromWire({ name: 'S', max_msgs: 0 }).maxMsgs, -1);
    const w = streamConfigToWire(c);
    assert.equal(w.duplicate_window, 120_000_000_000);
    assert.equal(w.num_replicas, 1);
    assert.ok(sameConfig(c, streamConfigFromWire(w)));
  });

  it('config - a short max_age shortens the default dedupe window', () => {
    const c = streamConfigFromWire({ name: 'S', max_age: 30_000_000_000 });
    assert.equal(c.duplicateWindow, 30_000_000_000);
    assert.equal(storeLimitsOf(c).maxAgeMs, 30_000);
  });

  it('config - invalid settings give nats-server error codes and texts', () => {
    rejects(() => streamConfigFromWire({ name: 'S', subjects: ['a b'] }), 10052, 'invalid subject');
    rejects(() => streamConfigFromWire({ name: 'S', subjects: ['z', 'z'] }), 10052, 'duplicate subjects detected');
    rejects(() => streamConfigFromWire({ name: 'S', subjects: ['$JS.API.x'] }), 10052, 'subjects overlap with jetstream api');
    rejects(() => streamConfigFromWire({ name: 'S', retention: 'bogus' }), 10025);
    rejects(() => streamConfigFromWire({ name: 'S', allow_rollup_hdrs: true, deny_purge: true }), 10052, 'roll-ups require the purge permission');
    rejects(() => streamConfigFromWire({ name: 'S', duplicate_window: 2e9, max_age: 1e9 }), 10052, 'duplicates window can not be larger then max age');
    rejects(() => streamConfigFromWire({ name: 'S', num_replicas: 3 }), 10074);
    rejects(() => streamConfigFromWire({ name: 'a/b' }), 10128);
    rejects(() => streamConfigFromWire({ name: 'a.b' }), 10052);
  });

  it('config - sealing forces deny delete, deny purge and discard new; updates cannot undo it', () => {
    const open = streamConfigFromWire({ name: 'S' });
    const sealed = streamConfigFromWire({ name: 'S', sealed: true });
    assert.deepEqual([sealed.denyDelete, sealed.denyPurge, sealed.discard], [true, true, 'new']);
    validateUpdate(open, sealed);
    rejects(() => validateUpdate(sealed, open), 10052, 'stream configuration update can not unseal a sealed stream');
    rejects(() => validateUpdate(open, streamConfigFromWire({ name: 'S', storage: 'memory' })), 10052, 'stream configuration update can not change storage type');
  });

  it('errors - the wire form carries code, err_code and the filled-in description', () => {
    const e = new JetStreamApiError(JsError.StreamWrongLastSequence, { seq: 7 });
    assert.deepEqual(e.toWire(), { code: 400, err_code: 10071, description: 'wrong last sequence: 7' });
    assert.deepEqual(new JetStreamApiError(JsError.StreamNotFound).toWire(), { code: 404, err_code: 10059, description: 'stream not found' });
  });

  it('time - RFC3339 with nanoseconds, trailing zeros trimmed, Go zero time for none', () => {
    assert.equal(formatTime(0), ZERO_TIME);
    assert.equal(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5)), '2026-01-02T03:04:05Z');
    assert.equal(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5) + 0.5), '2026-01-02T03:04:05.0005Z');
    assert.equal(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 120)), '2026-01-02T03:04:05.12Z');
    const t = Date.UTC(2026, 5, 1) + 123.456;
    assert.ok(Math.abs(parseTime(formatTime(t)) - t) < 1e-3);
  });
});
