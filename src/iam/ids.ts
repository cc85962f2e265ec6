// Identifiers IAM mints: unique ids of users, groups, roles and policies, access key ids, secrets.

import { randomBytes, randomInt } from 'node:crypto';

/** The prefixes AWS gives unique ids: users, groups, roles, managed policies. */
export type UniqueIdPrefix = 'AIDA' | 'AGPA' | 'AROA' | 'ANPA';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomChars(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** A 21-character unique id as AWS shows them (AIDA + 17 base-32 characters), ~85 random bits. */
export function uniqueId(prefix: UniqueIdPrefix): string {
  return prefix + randomChars(BASE32, 17);
}

/**
 * A 20-character access key id. "TR", not AWS's "AKIA", so that secret scanners and people never
 * take a Trove key for an AWS one.
 */
export function newAccessKeyId(): string {
  return 'TR' + randomChars(ALNUM, 18);
}

/** Temporary access key ids (STS sessions) start with ASIA, as AWS's do; the long-term ones minted here never do. */
export const TEMPORARY_KEY_PREFIX = 'ASIA';

/** A 20-character temporary access key id: ASIA + 16 characters. */
export function newTemporaryAccessKeyId(): string {
  return TEMPORARY_KEY_PREFIX + randomChars(ALNUM, 16);
}

export function isTemporaryAccessKeyId(id: string): boolean {
  return id.startsWith(TEMPORARY_KEY_PREFIX);
}

/** A 40-character secret access key (240 random bits), like AWS's. */
export function newSecretKey(): string {
  return randomBytes(30).toString('base64');
}
