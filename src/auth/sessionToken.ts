// Session tokens of temporary credentials (STS): self-contained and sealed, so that a node
// authenticates and authorises a session from the token alone — no store write per token, no
// session table to replicate.
//
//   token = base64url( version (1 byte) ‖ nonce (12 bytes) ‖ AES-256-GCM(claims JSON) ‖ tag (16 bytes) )
//
// The key is the server's (32 random bytes, kept in the metadata store's settings: sts/service.ts).
// Authenticated encryption, not just encryption: a token changed in any bit — version, nonce,
// ciphertext or tag — fails to open and is refused; it can never decrypt into other claims (the
// flaw of a malleable CBC token, as in Ceph RGW's 2026 STS CVE). The version byte is part of the
// authenticated data, so a token cannot be replayed under another format. base64url (RFC 4648 §5,
// no padding) rather than standard base64: tokens travel in query strings (presigned URLs), where
// '+' and '/' are easy to mangle.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const TOKEN_VERSION = 1;
export const TOKEN_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Far above any token this server issues (a 2,048-character session policy included). */
const MAX_TOKEN_CHARS = 16 * 1024;
/** Bound into every seal, besides the version byte: these bytes are a Trove session token. */
const CONTEXT = Buffer.from('trove/sts/session-token', 'utf8');

/** What a session is: everything authentication and authorisation need, sealed in its token. */
export interface SessionClaims {
  /** AssumeRole sessions act as a role; GetSessionToken sessions as the IAM user or root that asked. */
  readonly kind: 'assumed-role' | 'session-token';
  /** The 12-digit account the session acts in. */
  readonly accountId: string;
  /** The account's canonical id: what the session's writes are owned by. */
  readonly canonicalId: string;
  /** The role's ARN (with its path), the IAM user's ARN, or the account root's ARN. */
  readonly arn: string;
  /** Unique id of the role (AROA…) or IAM user (AIDA…); absent for the account's root user. */
  readonly principalId?: string;
  /** RoleSessionName (role sessions). */
  readonly sessionName?: string;
  /** The temporary key pair (ASIA…). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** ms since epoch */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** SourceIdentity, once set, carried into sessions chained from this one. */
  readonly sourceIdentity?: string;
  /** The inline session policy, as given (role sessions). */
  readonly policy?: string;
  /** Unique ids (ANPA…) of the managed session policies (role sessions), read when authorising. */
  readonly policyIds?: readonly string[];
  /** Always false: this server has no MFA. */
  readonly mfa: false;
}

export type SessionTokenProblem = 'malformed' | 'version' | 'unauthentic' | 'claims';

/** A token that does not open. Its reason is for logs and tests; every one is refused alike. */
export class SessionTokenError extends Error {
  constructor(readonly problem: SessionTokenProblem) {
    super(`session token refused: ${problem}`);
    this.name = 'SessionTokenError';
  }
}

function aad(version: number): Buffer {
  return Buffer.concat([Buffer.of(version), CONTEXT]);
}

function checkKey(key: Buffer): void {
  if (key.length !== TOKEN_KEY_BYTES) throw new Error(`a session token key is ${TOKEN_KEY_BYTES} bytes`);
}

/** Seals claims into a token under `key`. */
export function sealSessionToken(claims: SessionClaims, key: Buffer): string {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(TOKEN_VERSION));
  const body = Buffer.concat([cipher.update(JSON.stringify(claims), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.of(TOKEN_VERSION), nonce, body, cipher.getAuthTag()]).toString('base64url');
}

/** Opens a token sealed under `key`; throws SessionTokenError for anything else. */
export function openSessionToken(token: string, key: Buffer): SessionClaims {
  checkKey(key);
  // Buffer.from(…, 'base64url') skips characters it does not know: check the alphabet first.
  if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) throw new SessionTokenError('malformed');
  const raw = Buffer.from(token, 'base64url');
  if (raw.length < 1 + NONCE_BYTES + TAG_BYTES + 1) throw new SessionTokenError('malformed');
  const version = raw[0]!;
  if (version !== TOKEN_VERSION) throw new SessionTokenError('version');
  const nonce = raw.subarray(1, 1 + NONCE_BYTES);
  const tag = raw.subarray(raw.length - TAG_BYTES);
  const body = raw.subarray(1 + NONCE_BYTES, raw.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(version));
  decipher.setAuthTag(tag);
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new SessionTokenError('unauthentic');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new SessionTokenError('claims');
  }
  return checkClaims(parsed);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

/**
 * The claims of an authentic token are ours, but a token sealed by another version of this code
 * may lack or mistype a field: refuse it rather than authorise from a half-read session.
 */
function checkClaims(v: unknown): SessionClaims {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SessionTokenError('claims');
  const c = v as Record<string, unknown>;
  const ok =
    (c.kind === 'assumed-role' || c.kind === 'session-token') &&
    isString(c.accountId) &&
    isString(c.canonicalId) &&
    isString(c.arn) &&
    isOptionalString(c.principalId) &&
    isOptionalString(c.sessionName) &&
    isString(c.accessKeyId) &&
    isString(c.secretAccessKey) &&
    Number.isSafeInteger(c.issuedAt) &&
    Number.isSafeInteger(c.expiresAt) &&
    isOptionalString(c.sourceIdentity) &&
    isOptionalString(c.policy) &&
    (c.policyIds === undefined || (Array.isArray(c.policyIds) && c.policyIds.every(isString))) &&
    c.mfa === false &&
    // A role session names its role and session.
    (c.kind !== 'assumed-role' || (isString(c.principalId) && isString(c.sessionName)));
  if (!ok) throw new SessionTokenError('claims');
  return c as unknown as SessionClaims;
}
