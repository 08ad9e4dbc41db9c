import { randomBytes } from 'node:crypto';

/** The last UUIDv7 made: its milliseconds and 12-bit counter (RFC 9562, method 1). */
let lastMs = 0;
let lastSeq = 0;

/**
 * A UUIDv7 (time-ordered), made in the app when a row's id is needed before its insert.
 * Monotonic within the process: ids made in the same millisecond count up in the 12 bits after
 * the version (starting from a random value in the lower half), so rows written in one
 * transaction (an import) sort in the order they were made, which an export by created_at, id
 * gives back.
 */
export function uuidv7(): string {
  const bytes = randomBytes(16);
  let ms = Date.now();
  let seq: number;
  if (ms > lastMs) seq = (((bytes[6] ?? 0) << 8) | (bytes[7] ?? 0)) & 0x7ff;
  else {
    ms = lastMs;
    seq = lastSeq + 1;
    if (seq > 0xfff) {
      ms += 1;
      seq = 0;
    }
  }
  lastMs = ms;
  lastSeq = seq;
  const time = BigInt(ms);
  for (let i = 0; i < 6; i++) bytes[i] = Number((time >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | (seq >> 8);
  bytes[7] = seq & 0xff;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
