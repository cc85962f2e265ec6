// Identifiers minted by the store. None is ever derived from an object key.

import { randomBytes, randomInt } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/**
 * A 32-hex-character id that sorts by creation time (48-bit ms clock, 16-bit counter, 64 random
 * bits so that several nodes never collide). Used for version ids and upload ids, which S3 lists
 * in time order.
 */
export function timeOrderedId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xffff) {
    // More than 65536 ids in one millisecond (or the clock went back): borrow from the future.
    lastMs++;
    counter = 0;
  }
  return lastMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(4, '0') + randomBytes(8).toString('hex');
}

/**
 * A time-ordered id greater than `prev` (the newest version of the same key), even if the clock
 * went back since `prev` was minted: the order of versions never depends on the clock alone.
 */
export function timeOrderedIdAfter(prev: string | undefined): string {
  const id = timeOrderedId();
  if (prev === undefined || id > prev) return id;
  const next = (BigInt('0x' + prev.slice(0, 16)) + 1n).toString(16).padStart(16, '0');
  return next + randomBytes(8).toString('hex');
}

/** Random 128-bit id for a blob. */
export function blobId(): string {
  return randomBytes(16).toString('hex');
}

/** A 12-digit AWS-style account id (the first digit never 0, so it never loses a digit as a number). */
export function newAccountId(): string {
  let s = String(1 + randomInt(9));
  for (let i = 0; i < 11; i++) s += String(randomInt(10));
  return s;
}

/** Version ids and upload ids we mint are 32 lower-case hex characters. */
export function isMintedId(s: string): boolean {
  return /^[0-9a-f]{32}$/.test(s);
}

/** A new account's canonical id (64 hex), as S3 shows owners. */
export function newUserId(): string {
  return randomBytes(32).toString('hex');
}

/** The setting holding the canonical id of the server's bootstrap root account. */
export const ROOT_USER_SETTING = 'root_user_id';
