import { randomBytes } from 'node:crypto';

let sequence = 0;
// Random bytes drawn in bulk: an id needs 12, and one call per id would cost more than the rest of it.
let pool = randomBytes(0);
let offset = 0;

function random48(): number {
  if (offset + 6 > pool.length) {
    pool = randomBytes(6 * 1024);
    offset = 0;
  }
  const value = pool.readUIntBE(offset, 6);
  offset += 6;
  return value;
}

/**
 * Auth0-style 56-digit log id that sorts in the order events were recorded: `900`, the UTC time to the
 * millisecond (17 digits), a per-process sequence (6 digits, so ids of one millisecond keep their order) and 30
 * random digits (two 48-bit draws, so nodes never collide).
 */
export function newLogId(at: number): string {
  const stamp = new Date(at).toISOString().replace(/\D/g, '').slice(0, 17);
  sequence = (sequence + 1) % 1_000_000;
  const random = `${String(random48()).padStart(15, '0')}${String(random48()).padStart(15, '0')}`;
  return `900${stamp}${String(sequence).padStart(6, '0')}${random}`;
}
