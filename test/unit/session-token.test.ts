// Session tokens: sealed with AES-256-GCM, opened only under the same key, refused when any bit
// of them changed, when their version is unknown, or when their claims are not a session's.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SessionTokenError, TOKEN_VERSION, openSessionToken, sealSessionToken, type SessionClaims, type SessionTokenProblem } from '../../src/auth/sessionToken.js';

const KEY = randomBytes(32);

const CLAIMS: SessionClaims = {
  kind: 'assumed-role',
  accountId: '123456789012',
  canonicalId: 'c'.repeat(64),
  arn: 'arn:aws:iam::123456789012:role/app/reader',
  principalId: 'AROAEXAMPLE0000000001',
  sessionName: 'alice@example.com',
  accessKeyId: 'ASIAEXAMPLE000000001',
  secretAccessKey: 'secret/with+chars',
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_700_003_600_000,
  sourceIdentity: 'alice',
  policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
  policyIds: ['ANPAEXAMPLE0000000001'],
  mfa: false,
};

function refused(token: string, problem: SessionTokenProblem, key = KEY): void {
  assert.throws(
    () => openSessionToken(token, key),
    (e: unknown) => e instanceof SessionTokenError && e.problem === problem,
  );
}

function withByte(token: string, index: number, change: (b: number) => number): string {
  const raw = Buffer.from(token, 'base64url');
  raw[index] = change(raw[index]!);
  return raw.toString('base64url');
}

describe('session tokens', () => {
  it('round-trips the claims, in base64url, with a fresh nonce every time', () => {
    const a = sealSessionToken(CLAIMS, KEY);
    const b = sealSessionToken(CLAIMS, KEY);
    assert.match(a, /^[A-Za-z0-9_-]+$/);
    assert.notEqual(a, b);
    assert.deepEqual(openSessionToken(a, KEY), CLAIMS);
    assert.deepEqual(openSessionToken(b, KEY), CLAIMS);
    const root: SessionClaims = { kind: 'session-token', accountId: '123456789012', canonicalId: 'c'.repeat(64), arn: 'arn:aws:iam::123456789012:root', accessKeyId: 'ASIAEXAMPLE000000002', secretAccessKey: 's', issuedAt: 1, expiresAt: 2, mfa: false };
    assert.deepEqual(openSessionToken(sealSessionToken(root, KEY), KEY), root);
  });

  it('starts with the version byte', () => {
    assert.equal(Buffer.from(sealSessionToken(CLAIMS, KEY), 'base64url')[0], TOKEN_VERSION);
  });

  it('refuses a token with any one bit flipped: nonce, ciphertext or tag', () => {
    const token = sealSessionToken(CLAIMS, KEY);
    const length = Buffer.from(token, 'base64url').length;
    for (let i = 1; i < length; i++) {
      for (const bit of [0x01, 0x80]) refused(withByte(token, i, (b) => b ^ bit), 'unauthentic');
    }
  });

  it('refuses a token whose version byte was changed, whatever follows', () => {
    const token = sealSessionToken(CLAIMS, KEY);
    for (const v of [0, 2, 0x81, 0xff]) refused(withByte(token, 0, () => v), 'version');
  });

  it('refuses a token sealed under another key', () => {
    refused(sealSessionToken(CLAIMS, randomBytes(32)), 'unauthentic');
  });

  it('refuses what is not a token: other alphabets, truncation, extension, emptiness, size', () => {
    const token = sealSessionToken(CLAIMS, KEY);
    refused('', 'malformed');
    refused(token + '=', 'malformed');
    // Standard base64's alphabet is not the token's.
    refused(token.slice(0, 10) + '+' + token.slice(11), 'malformed');
    refused(token.slice(0, 10) + '/' + token.slice(11), 'malformed');
    refused(token.slice(0, 20), 'malformed');
    refused(token.slice(0, -1), 'unauthentic');
    refused(token + 'AAAA', 'unauthentic');
    refused('A'.repeat(20_000), 'malformed');
    // Whitespace that a lenient decoder would skip.
    refused(token.slice(0, 10) + ' ' + token.slice(10), 'malformed');
  });

  it('refuses an authentic token whose claims are not a session’s', () => {
    const seal = (v: object) => sealSessionToken(v as SessionClaims, KEY);
    refused(seal({ ...CLAIMS, kind: 'federated-user' }), 'claims');
    refused(seal({ ...CLAIMS, mfa: true }), 'claims');
    refused(seal({ ...CLAIMS, expiresAt: '2030-01-01' }), 'claims');
    refused(seal({ ...CLAIMS, policyIds: [1] }), 'claims');
    const { sessionName: _omit, ...noSession } = CLAIMS;
    refused(seal(noSession), 'claims');
  });

  it('insists on a 32-byte key', () => {
    assert.throws(() => sealSessionToken(CLAIMS, randomBytes(16)));
    assert.throws(() => openSessionToken(sealSessionToken(CLAIMS, KEY), randomBytes(31)));
  });
});
