// Loads kafkajs with faster stand-ins for six of its internals on the produce
// path (connectors/kafka/kafkajs-speedups/).
//
// Why: kafkajs 2.2.4 is its last release (upstream has been unmaintained since
// 2023), and its produce path costs about 15 us of CPU per 1 KiB record on this
// machine just to encode the request; that alone held NATS -> Kafka near the
// 50,000 msg/s target. A profile (`node --cpu-prof test/bench/kafka-bridge-bench.ts
// 100000 out-kafkajs`) put it in a byte-at-a-time CRC32C, zero-filled buffers
// for every Encoder, per-varint arrays in the Record encoder, quadratic
// grouping of messages by partition, and every record copied six times on its
// way into the request. With the stand-ins, encoding costs 1.5-2 us a record.
//
// How: each stand-in writes exactly what the original writes (the tests
// compare them byte for byte; kcat checks the CRCs) and is put into Node's
// CommonJS cache under the original's file name before kafkajs first loads, so
// kafkajs's own `require` picks it up. That is done only over the very files
// they were checked against (kafkajs 2.2.4, by content digest, so a patched
// copy is left alone), and only if nothing loaded kafkajs earlier; otherwise
// kafkajs runs as shipped (slower, equally correct). `kafkajsSpeedups()` says
// which happened; the bridge reports it in its metrics (/kafkaz) and the server
// warns at start when they are not in use.
//
// Take kafkajs from `kafkajs` here, never from `import ... from 'kafkajs'`:
// Node runs a CommonJS package imported by ESM while it links the module graph,
// before any ESM module body, so a value import anywhere in the graph would
// load kafkajs before the stand-ins are in place (type imports are fine).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { crc32c } from './kafkajs-speedups/crc32c.ts';
import { groupMessagesPerPartition } from './kafkajs-speedups/group-by-partition.ts';
import { pooledEncoder, type EncoderClass } from './kafkajs-speedups/pooled-encoder.ts';
import { singlePassProduceRequest, type KafkaRequest, type ProduceArgs } from './kafkajs-speedups/produce-request.ts';
import { exactRecordEncoder } from './kafkajs-speedups/record-encoder.ts';
import type { RecordFields } from './kafkajs-speedups/record-encoder.ts';
import { sizedRequestFrame } from './kafkajs-speedups/request-frame.ts';

const SUPPORTED_VERSION = '2.2.4';

/**
 * The kafkajs 2.2.4 files the stand-ins replace or build on, by the first 16
 * hex digits of their SHA-256 (as npm installs them from the registry).
 */
const CHECKED_FILES: Readonly<Record<string, string>> = {
  'src/protocol/encoder.js': '9977889e184a9e91',
  'src/protocol/recordBatch/crc32C/index.js': '0826ea7387f25400',
  'src/protocol/recordBatch/crc32C/crc32C.js': '1c09c7a44e7a207f',
  'src/producer/groupMessagesPerPartition.js': 'ea72357721fbf677',
  'src/protocol/recordBatch/record/v0/index.js': 'ffbc628c1f35f5de',
  'src/protocol/recordBatch/header/v0/index.js': '5517d33a48fa33f5',
  'src/protocol/recordBatch/v0/index.js': '6d6b63a8959ff0b9',
  'src/protocol/requests/produce/v3/request.js': '993a3db997827088',
  'src/protocol/request.js': '2270900ca6474026',
};

export type KafkajsSpeedupsState =
  | 'active'
  | 'kafkajs was loaded first'
  | `kafkajs ${string} is not ${typeof SUPPORTED_VERSION}`
  | `kafkajs's ${string} is not the file the stand-ins were checked against`
  | `failed: ${string}`;

const requireHere = createRequire(import.meta.url);

function seed(filename: string, exports: unknown): void {
  const module = new Module(filename);
  module.filename = filename;
  module.loaded = true;
  module.exports = exports;
  requireHere.cache[filename] = module;
}

function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
}

function seedStandIns(root: string): void {
  const encoderFile = join(root, 'src/protocol/encoder.js');
  const Encoder = pooledEncoder(requireHere(encoderFile) as EncoderClass);
  seed(encoderFile, Encoder);
  // Loaded after the Encoder went in, so kafkajs's own Record (kept for unusual input) uses it too.
  const recordFile = join(root, 'src/protocol/recordBatch/record/v0/index.js');
  seed(recordFile, exactRecordEncoder(requireHere(recordFile) as (fields: RecordFields) => never, Encoder));
  // kafkajs's crc32C/index.js returns the CRC as an unsigned 32-bit number, as crc32c does.
  seed(join(root, 'src/protocol/recordBatch/crc32C/index.js'), crc32c);
  seed(join(root, 'src/producer/groupMessagesPerPartition.js'), groupMessagesPerPartition);
  const produceFile = join(root, 'src/protocol/requests/produce/v3/request.js');
  seed(produceFile, singlePassProduceRequest(requireHere(produceFile) as (args: ProduceArgs) => KafkaRequest, Encoder));
  seed(join(root, 'src/protocol/request.js'), sizedRequestFrame(Encoder));
}

function install(): KafkajsSpeedupsState {
  const root = dirname(requireHere.resolve('kafkajs/package.json'));
  const version = (requireHere('kafkajs/package.json') as { version: string }).version;
  if (version !== SUPPORTED_VERSION) return `kafkajs ${version} is not ${SUPPORTED_VERSION}`;
  if (requireHere.cache[join(root, 'index.js')] !== undefined) return 'kafkajs was loaded first';
  for (const [file, expected] of Object.entries(CHECKED_FILES)) {
    if (digest(join(root, file)) !== expected) return `kafkajs's ${file} is not the file the stand-ins were checked against`;
  }
  try {
    seedStandIns(root);
    return 'active';
  } catch (error) {
    // Nothing of kafkajs was loaded before (checked above): forget all of it, so it loads as shipped.
    for (const file of Object.keys(requireHere.cache)) if (file.startsWith(root + sep)) delete requireHere.cache[file];
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * Loaded on first use, not when this module is imported: a server without a
 * kafka section never pays for kafkajs (about 100 ms of every start, issue 29
 * item 6).
 */
let loaded: { readonly kafkajs: typeof import('kafkajs'); readonly state: KafkajsSpeedupsState } | null = null;

function load(): NonNullable<typeof loaded> {
  if (loaded === null) {
    const state = install();
    loaded = { state, kafkajs: requireHere('kafkajs') as typeof import('kafkajs') };
  }
  return loaded;
}

/** The kafkajs package, loaded after the stand-ins went in. */
export function kafkajs(): typeof import('kafkajs') {
  return load().kafkajs;
}

/** Whether the stand-ins are in use in this process, and if not, why not. */
export function kafkajsSpeedups(): KafkajsSpeedupsState {
  return load().state;
}
