import { randomInt } from 'node:crypto';

let sequence = 0;

/**
 * Auth0-style 56-digit log id that sorts in the order events were recorded: `900`, the UTC time to the
 * millisecond (17 digits), a per-process sequence (6 digits, so ids of one millisecond keep their order) and 30
 * random digits (so nodes never collide).
 */
export function newLogId(at: number): string {
  const stamp = new Date(at).toISOString().replace(/\D/g, '').slice(0, 17);
  sequence = (sequence + 1) % 1_000_000;
  let random = '';
  while (random.length < 30) random += String(randomInt(0, 1_000_000_000)).padStart(9, '0');
  return `900${stamp}${String(sequence).padStart(6, '0')}${random.slice(0, 30)}`;
}
