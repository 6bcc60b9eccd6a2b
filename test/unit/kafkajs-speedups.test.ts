// The stand-ins connectors/kafka/kafkajs-loader.ts puts into kafkajs must write
// exactly what kafkajs as shipped writes. Every reference output is computed
// from kafkajs's own modules before the loader is imported (the loader patches
// the Encoder prototype those modules share), then the same inputs go through
// the stand-ins and the bytes are compared. Inputs come from a seeded generator,
// so a failure reproduces.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EncoderClass } from '../../connectors/kafka/kafkajs-speedups/pooled-encoder.ts';
import { singlePassProduceRequest, type KafkaRequest, type ProduceArgs } from '../../connectors/kafka/kafkajs-speedups/produce-request.ts';
import { exactRecordEncoder, type RecordFields } from '../../connectors/kafka/kafkajs-speedups/record-encoder.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { PROJECT_ROOT } from '../helpers/servers.ts';

const requireHere = createRequire(import.meta.url);
const root = dirname(requireHere.resolve('kafkajs/package.json'));
const kafkajsModule = (file: string): unknown => requireHere(join(root, file));

const FILES = {
  crc: 'src/protocol/recordBatch/crc32C/index.js',
  group: 'src/producer/groupMessagesPerPartition.js',
  record: 'src/protocol/recordBatch/record/v0/index.js',
  produce: 'src/protocol/requests/produce/v3/request.js',
  frame: 'src/protocol/request.js',
  long: 'src/utils/long.js',
} as const;

interface EncoderLike {
  buffer: Buffer;
}
type Crc = (bytes: Buffer) => number;
type Group = (args: { topic: string; partitionMetadata: unknown[]; messages: unknown[]; partitioner: (args: { message: unknown }) => number }) => Record<string, unknown[]>;
type RecordFn = (input: object) => EncoderLike;
type Produce = (args: object) => { encode: () => Promise<EncoderLike> };
type Frame = (args: { correlationId: number; clientId: string; request: object }) => Promise<EncoderLike>;

const random = seededRandom(20261123);
const below = (n: number): number => Math.floor(random() * n);
const bytes = (length: number, from = random): Buffer => Buffer.from(Array.from({ length }, () => Math.floor(from() * 256)));
const TEXTS = ['', 'k', 'sensor-42', 'héllo wörld', '温度', '🚀 rocket', 'a'.repeat(200)];
const text = (): string => TEXTS[below(TEXTS.length)]!;

function keyOrValue(): unknown {
  switch (below(6)) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return text();
    case 3:
      return bytes(below(40));
    case 4:
      return bytes(100 + below(20_000)); // past one- and two-byte length varints
    default:
      return Buffer.alloc(0);
  }
}

function headers(): unknown {
  const out: Record<string, unknown> = {};
  const count = below(4);
  for (let i = 0; i < count; i++) {
    const name = `${text()}-${i}`;
    out[name] = below(3) === 0 ? Array.from({ length: below(3) }, () => (below(2) === 0 ? text() : bytes(below(30)))) : below(2) === 0 ? text() : bytes(below(50));
  }
  return below(5) === 0 ? undefined : out;
}

const DELTAS = [0, 1, 63, 64, 8191, 8192, -1, -64, -65, 1_795_000_000_000, -1_795_000_000_000, 2 ** 40, -(2 ** 40)];

function recordInput(i: number): object {
  return { offsetDelta: below(3) === 0 ? i : below(100_000), timestampDelta: DELTAS[below(DELTAS.length)]!, key: keyOrValue(), value: keyOrValue(), headers: headers() };
}

// Inputs kafkajs does not expect: the stand-in must hand them to kafkajs's own encoder.
const UNUSUAL: object[] = [
  { key: 'k', value: 'v', headers: null },
  { key: 'k', value: 42 },
  { key: 'k', value: 'v', headers: { h: null } },
  { key: 'k', value: 'v', headers: { h: [Buffer.from('x'), 7] } },
  { key: new Uint8Array([1, 2, 3]), value: 'v' },
  { key: 'k', value: 'v', timestampDelta: 1.5 },
  { key: 'k', value: 'v', timestampDelta: 2 ** 60 },
  { key: 'k', value: 'v', offsetDelta: 2 ** 31 },
];

function outcome(run: () => EncoderLike): { bytes: string } | { error: string } {
  try {
    return { bytes: run().buffer.toString('hex') };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

const Long = kafkajsModule(FILES.long) as { fromNumber(n: number): unknown };

/** A produce request's arguments: 1-4 partitions of 0-300 seeded messages. */
function produceArgs(seed: number, options: { timestamps?: boolean; compression?: number; transactionalId?: string; idempotent?: boolean; odd?: unknown } = {}): object {
  const rand = seededRandom(seed);
  const partitions = Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, partition) => ({
    partition,
    firstSequence: options.idempotent === false ? undefined : Math.floor(rand() * 1000),
    messages: Array.from({ length: Math.floor(rand() * 300) }, (_, i) => ({
      key: i % 5 === 4 ? null : `k${i % 7}`,
      value: i === 3 && options.odd !== undefined ? options.odd : bytes(Math.floor(rand() * 2048), rand),
      headers: i % 3 === 0 ? { origin: 'nats', multi: ['a', Buffer.from('b')] } : i % 3 === 1 ? {} : undefined,
      ...(options.timestamps === false ? {} : { timestamp: String(1_795_000_000_000 + Math.floor(rand() * 10_000)) }),
    })),
  }));
  const idempotence = options.idempotent === false ? {} : { producerId: Long.fromNumber(4242), producerEpoch: 3 };
  return { acks: -1, timeout: 30_000, compression: options.compression ?? 0, transactionalId: options.transactionalId, topicData: [{ topic: `topic-${seed}`, partitions }], ...idempotence };
}

/** One partition whose messages have these timestamps (undefined: no timestamp field). */
function timestamps(...stamps: unknown[]): object {
  const messages = stamps.map((timestamp, i) => ({ key: `k${i}`, value: `v${i}`, ...(timestamp === undefined ? {} : { timestamp }) }));
  return { acks: -1, timeout: 30_000, topicData: [{ topic: 'ts', partitions: [{ partition: 0, messages }] }] };
}

/** One message per value, of exactly these sizes: the record's length varint crosses its boundaries. */
function valueSizes(...sizes: number[]): object {
  const messages = sizes.map((size, i) => ({ key: null, value: Buffer.alloc(size, i + 1) }));
  return { acks: -1, timeout: 30_000, topicData: [{ topic: 'sizes', partitions: [{ partition: 1, messages }] }] };
}

function single(overrides: object, message: unknown = { key: 'k', value: 'v' }): object {
  return { acks: -1, timeout: 30_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [message] }] }], ...overrides };
}

/** [name, arguments, which encoder must take them: the stand-in, or kafkajs's own through the fallback]. */
const PRODUCE_CASES: Array<[string, object, 'stand-in' | 'kafkajs']> = [
  ...[1, 2, 3, 4, 5, 6].map((seed): [string, object, 'stand-in'] => [`seeded ${seed}`, produceArgs(seed), 'stand-in']),
  ['without timestamps (Date.now)', produceArgs(7, { timestamps: false }), 'stand-in'],
  ['not idempotent (default producer id, epoch and sequence)', produceArgs(8, { idempotent: false }), 'stand-in'],
  ['transactional', produceArgs(9, { transactionalId: 'tx-1' }), 'stand-in'],
  ['an empty transactional id, a 300-byte topic without partitions', { ...single({ transactionalId: '' }), topicData: [{ topic: 'x'.repeat(300), partitions: [] }] }, 'stand-in'],
  ['transactional id of 300 bytes', single({ transactionalId: 'é'.repeat(150) }), 'stand-in'],
  ['numeric timestamps, sorted as text by kafkajs (negative deltas)', timestamps(1000, 999, 10_000, undefined), 'stand-in'],
  ['timestamp 0 and one missing', timestamps(0, 1_795_000_000_005, undefined), 'stand-in'],
  ['an empty timestamp string', timestamps('', '1795000000003'), 'stand-in'],
  ['a number and a string timestamp', timestamps(5, '10'), 'stand-in'],
  ['producer id as a number', single({ producerId: 77 }), 'stand-in'],
  ['producer id as a string', single({ producerId: '123456789012' }), 'stand-in'],
  ['producer id as a bigint', single({ producerId: 9_007_199_254_740_993n }), 'stand-in'],
  ['acks 0', single({ acks: 0 }), 'stand-in'],
  ['no topics', { acks: -1, timeout: 30_000, topicData: [] }, 'stand-in'],
  ['a topic without partitions', { acks: -1, timeout: 30_000, topicData: [{ topic: 'empty', partitions: [] }] }, 'stand-in'],
  ['values at varint boundaries', valueSizes(0, 63, 64, 8191, 8192, 2 ** 20 - 1, 2 ** 20), 'stand-in'],
  ['a 3 MiB record', valueSizes(3 * 1024 * 1024), 'stand-in'],
  ['two topics', { acks: 1, timeout: 5_000, topicData: [{ topic: 'a', partitions: [{ partition: 0, messages: [{ value: 'x' }] }] }, { topic: 'tópico', partitions: [{ partition: 2, messages: [] }] }] }, 'stand-in'],
  ['gzip (kafkajs encodes it)', produceArgs(10, { compression: 1 }), 'kafkajs'],
  ['compression null (kafkajs fails it)', single({ compression: null }), 'kafkajs'],
  ['a value kafkajs cannot encode (kafkajs fails it)', produceArgs(11, { odd: 42 }), 'kafkajs'],
  ['a topic that is not a string', { acks: -1, timeout: 30_000, topicData: [{ topic: null, partitions: [{ partition: 0, messages: [{ value: 'v' }] }] }] }, 'kafkajs'],
  ['a message with inherited fields (kafkajs spreads own fields only)', single({}, Object.create({ key: 'ik', value: 'iv', headers: { h: 'x' } })), 'kafkajs'],
];

// Date.now() is fixed while both encodings run, so batches without timestamps compare too.
async function encodeProduce(produce: Produce, frame: Frame, args: object): Promise<{ bytes: string } | { error: string }> {
  const realNow = Date.now;
  Date.now = () => 1_795_000_000_000;
  try {
    const framed = await frame({ correlationId: 7, clientId: 'switchboard', request: produce(args) });
    return { bytes: framed.buffer.toString('hex') };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  } finally {
    Date.now = realNow;
  }
}

type RequestModule = (args: object) => object;

/** Other requests through the framing stand-in, each with a client id of its own (null included). */
const FRAME_CASES: Array<[string, string, object, string | null]> = [
  ['metadata', 'src/protocol/requests/metadata/v6/request.js', { topics: ['a', 'tópico'], allowAutoTopicCreation: true }, 'switchboard'],
  ['heartbeat', 'src/protocol/requests/heartbeat/v3/request.js', { groupId: 'g', groupGenerationId: 3, memberId: 'm-1', groupInstanceId: null }, null],
  ['metadata, no topics', 'src/protocol/requests/metadata/v6/request.js', { topics: [], allowAutoTopicCreation: false }, 'ünïcode-client'],
];

async function encodeFrames(frame: Frame): Promise<string[]> {
  return Promise.all(FRAME_CASES.map(async ([, file, args, clientId]) => (await frame({ correlationId: 99, clientId: clientId as string, request: (kafkajsModule(file) as RequestModule)(args) })).buffer.toString('hex')));
}

const CRC_INPUTS = [...Array.from({ length: 300 }, (_, n) => bytes(n)), bytes(900_000), Buffer.from('123456789')];
const RECORD_INPUTS = Array.from({ length: 2_000 }, (_, i) => recordInput(i));
const GROUP_INPUT = Array.from({ length: 500 }, (_, i) => ({ partition: below(5), i }));
const groupArgs = { topic: 't', partitionMetadata: [{}, {}, {}, {}, {}], messages: GROUP_INPUT, partitioner: ({ message }: { message: unknown }) => (message as { partition: number }).partition };

function kafkajsParts() {
  return {
    crc: kafkajsModule(FILES.crc) as Crc,
    group: kafkajsModule(FILES.group) as Group,
    record: kafkajsModule(FILES.record) as RecordFn,
    produce: kafkajsModule(FILES.produce) as Produce,
    frame: kafkajsModule(FILES.frame) as Frame,
  };
}

// Reference outputs, from kafkajs as shipped.
const shipped = kafkajsParts();
const expected = {
  crcs: CRC_INPUTS.map((input) => shipped.crc(input)),
  records: RECORD_INPUTS.map((input) => outcome(() => shipped.record(input))),
  unusual: UNUSUAL.map((input) => outcome(() => shipped.record(input))),
  groups: shipped.group(groupArgs),
  groupsWithoutMetadata: shipped.group({ ...groupArgs, partitionMetadata: [] }),
  frames: await encodeFrames(shipped.frame),
  requests: await Promise.all(PRODUCE_CASES.map(([, args]) => encodeProduce(shipped.produce, shipped.frame, args))),
};

const { kafkajsSpeedups } = await import('../../connectors/kafka/kafkajs-loader.ts');
// The loader installs on first use: now, before the stand-ins are read from the cache.
kafkajsSpeedups();
const fast = kafkajsParts();

/**
 * Runs `work` with Buffer.allocUnsafe filling every buffer with 0xA5, so a byte
 * a stand-in forgot to write shows as 0xA5 instead of the zero a fresh pool
 * page would likely hold.
 */
async function withDirtyBuffers<T>(work: () => T | Promise<T>): Promise<T> {
  const allocUnsafe = Buffer.allocUnsafe;
  Buffer.allocUnsafe = (size: number) => allocUnsafe(size).fill(0xa5);
  try {
    return await work();
  } finally {
    Buffer.allocUnsafe = allocUnsafe;
  }
}

const caseIndex = (name: string): number => PRODUCE_CASES.findIndex(([caseName]) => caseName === name);

describe('kafkajs speedups', () => {
  it('kafkajs speedups - are installed when kafkajs is first loaded through the loader', () => {
    assert.equal(kafkajsSpeedups(), 'active');
    for (const [name, fn] of Object.entries(fast)) assert.notEqual(fn, shipped[name as keyof typeof shipped], `${name} was not replaced`);
  });

  it('kafkajs speedups - CRC-32C matches kafkajs for every length up to 300 bytes, 900 KB, and the standard check value', () => {
    assert.deepEqual(CRC_INPUTS.map((input) => fast.crc(input)), expected.crcs);
    assert.equal(fast.crc(Buffer.from('123456789')), 0xe3069283);
  });

  it('kafkajs speedups - records are byte for byte what kafkajs writes (2,000 seeded inputs)', async () => {
    const actual = await withDirtyBuffers(() => RECORD_INPUTS.map((input) => outcome(() => fast.record(input))));
    for (let i = 0; i < actual.length; i++) assert.deepEqual(actual[i], expected.records[i], `record input ${i}`);
    assert.ok(expected.records.every((result) => 'bytes' in result), 'the ordinary inputs all encode');
  });

  it('kafkajs speedups - unusual record input gets kafkajs behaviour, errors included', () => {
    const actual = UNUSUAL.map((input) => outcome(() => fast.record(input)));
    assert.deepEqual(actual, expected.unusual);
    assert.ok(expected.unusual.some((result) => 'error' in result), 'some of them are errors in kafkajs');
  });

  it('kafkajs speedups - messages are grouped by partition as kafkajs groups them', () => {
    assert.deepEqual(fast.group(groupArgs), expected.groups);
    assert.deepEqual(fast.group({ ...groupArgs, partitionMetadata: [] }), expected.groupsWithoutMetadata);
  });

  it('kafkajs speedups - whole produce requests are byte for byte what kafkajs writes', async () => {
    const actual = await withDirtyBuffers(() => Promise.all(PRODUCE_CASES.map(([, args]) => encodeProduce(fast.produce, fast.frame, args))));
    for (let i = 0; i < actual.length; i++) assert.deepEqual(actual[i], expected.requests[i], `produce request: ${PRODUCE_CASES[i]![0]}`);
    for (const name of ['a value kafkajs cannot encode (kafkajs fails it)', 'compression null (kafkajs fails it)']) assert.ok('error' in expected.requests[caseIndex(name)]!, name);
  });

  it("kafkajs speedups - ordinary input takes the stand-ins; the rest goes to kafkajs's own encoders", async () => {
    // The stand-ins again, each over a counting wrapper of kafkajs's original: the fallback must not run for ordinary input.
    const Encoder = kafkajsModule('src/protocol/encoder.js') as EncoderClass;
    let produceFallbacks = 0;
    const produce = singlePassProduceRequest((args: ProduceArgs) => {
      produceFallbacks++;
      return shipped.produce(args) as unknown as KafkaRequest;
    }, Encoder);
    for (const [i, [name, args, path]] of PRODUCE_CASES.entries()) {
      const before = produceFallbacks;
      assert.deepEqual(await withDirtyBuffers(() => encodeProduce(produce as unknown as Produce, fast.frame, args)), expected.requests[i], name);
      assert.equal(produceFallbacks > before, path === 'kafkajs', `${name}: ${path === 'kafkajs' ? 'kafkajs was not used' : 'the stand-in fell back'}`);
    }
    let recordFallbacks = 0;
    const record = exactRecordEncoder((fields: RecordFields) => {
      recordFallbacks++;
      return shipped.record(fields) as never;
    }, Encoder);
    for (const input of RECORD_INPUTS) record(input);
    assert.equal(recordFallbacks, 0, 'ordinary records never fall back');
    for (const input of UNUSUAL) outcome(() => record(input) as unknown as EncoderLike);
    assert.equal(recordFallbacks, UNUSUAL.length, 'every unusual record goes to kafkajs');
  });

  it('kafkajs speedups - produce v7 keeps its version and the request its shape; acks 0 expects no response', () => {
    const v7 = kafkajsModule('src/protocol/requests/produce/v7/request.js') as (args: object) => { apiKey: number; apiVersion: number; apiName: string; expectResponse: () => boolean };
    const request = v7(single({ acks: 0 }));
    const reference = shipped.produce(single({ acks: 0 })) as unknown as { apiKey: number; apiName: string; expectResponse: () => boolean };
    assert.deepEqual([request.apiKey, request.apiVersion, request.apiName, request.expectResponse()], [reference.apiKey, 7, reference.apiName, false]);
    assert.equal(v7(single({ acks: -1 })).expectResponse(), true);
  });

  it('kafkajs speedups - other requests are framed byte for byte as kafkajs frames them', async () => {
    const actual = await encodeFrames(fast.frame);
    for (let i = 0; i < actual.length; i++) assert.equal(actual[i], expected.frames[i], `request: ${FRAME_CASES[i]![0]}`);
  });

  it('kafkajs speedups - kafkajs loaded first is left as shipped, and says so', () => {
    const script = "import 'kafkajs'; const { kafkajsSpeedups } = await import('./connectors/kafka/kafkajs-loader.ts'); process.stdout.write(kafkajsSpeedups());";
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, timeout: 30_000 }).toString();
    assert.equal(out, 'kafkajs was loaded first');
  });
});
