// Temporary credentials in every authentication form: SigV4 header and presigned URL, SigV2
// header and query string. The token travels where each mechanism signs it, is covered by the
// signature, and binds the temporary key: no token, another token, a long-term key with a token
// and an expired session are refused with S3's codes, whatever the credential lookup answers.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { authenticate } from '../../src/auth/sigv4.js';
import type { AuthRequest, Credential, CredentialLookup } from '../../src/auth/types.js';
import { EMPTY_SHA256, EXAMPLE, lookup as permanentLookup, makeRequest, NodeSha256, rejectsWith, strictEncode } from './auth-support.js';

const NOW = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));
const TOKEN = 'AQABAAAAsealedTOKEN_with-base64url0123456789';

const SESSION: Credential = {
  accessKeyId: 'ASIAEXAMPLE000000001',
  secretAccessKey: 'temporary/secret+key',
  userId: 'c'.repeat(64),
  accountId: '123456789012',
  displayName: 'acct',
  sessionToken: TOKEN,
  session: {
    kind: 'assumed-role',
    issuedAt: NOW.getTime() - 60_000,
    expiresAt: NOW.getTime() + 3_600_000,
    role: {
      id: 'AROAEXAMPLE0000000001',
      name: 'reader',
      path: '/',
      arn: 'arn:aws:iam::123456789012:role/reader',
      sessionName: 's1',
      sessionArn: 'arn:aws:sts::123456789012:assumed-role/reader/s1',
    },
  },
};

/** A store that knows the long-term keys and one session (found only with its token). */
const lookup: CredentialLookup = (id, token) => (token === undefined ? permanentLookup(id) : id === SESSION.accessKeyId && token === TOKEN ? SESSION : undefined);

/** A careless store that answers the session whatever token comes: authentication still binds it. */
const careless: CredentialLookup = (id) => (id === SESSION.accessKeyId ? SESSION : permanentLookup(id));

function signer(c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }): SignatureV4 {
  return new SignatureV4({ credentials: c, region: 'us-east-1', service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
}

const encodeQuery = (q: Record<string, string>) =>
  Object.entries(q)
    .map(([k, v]) => `${strictEncode(k)}=${strictEncode(v)}`)
    .join('&');

function toRequest(r: { method: string; path: string; query?: Record<string, string | string[] | null>; headers: Record<string, string> }, now = NOW): AuthRequest {
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.query ?? {})) if (typeof v === 'string') query[k] = v;
  return makeRequest({ method: r.method, rawPath: r.path, rawQuery: encodeQuery(query), headers: Object.entries(r.headers), now });
}

async function headerSigned(c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, now = NOW): Promise<AuthRequest> {
  const signed = await signer(c).sign(
    { method: 'GET', protocol: 'http:', hostname: 'trove.test', port: 9000, path: '/b/k', query: {}, headers: { host: 'trove.test:9000', 'x-amz-content-sha256': EMPTY_SHA256 } },
    { signingDate: now },
  );
  return toRequest(signed, now);
}

async function presigned(c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, expiresIn = 3600): Promise<AuthRequest> {
  const signed = await signer(c).presign(
    // Presigned URLs are signed with UNSIGNED-PAYLOAD (smithy hoists the header into the query).
    { method: 'GET', protocol: 'http:', hostname: 'trove.test', port: 9000, path: '/b/k', query: {}, headers: { host: 'trove.test:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
    { signingDate: NOW, expiresIn },
  );
  return toRequest(signed);
}

const withoutToken = { accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey };
const withToken = { ...withoutToken, sessionToken: TOKEN };

describe('temporary credentials, SigV4 header', () => {
  it('authenticates the session: the identity carries it', async () => {
    const req = await headerSigned(withToken);
    assert.equal(req.headers['x-amz-security-token'], TOKEN);
    const r = await authenticate(req, lookup);
    assert.equal(r.identity?.accessKeyId, SESSION.accessKeyId);
    assert.deepEqual(r.identity?.session, SESSION.session);
  });

  it('a temporary key without its token is unknown: InvalidAccessKeyId', async () => {
    await rejectsWith(authenticate(await headerSigned(withoutToken), lookup), 'InvalidAccessKeyId');
    await rejectsWith(authenticate(await headerSigned(withoutToken), careless), 'InvalidAccessKeyId');
  });

  it('another token, a long-term key with a token: InvalidToken, even from a careless store', async () => {
    await rejectsWith(authenticate(await headerSigned({ ...withoutToken, sessionToken: TOKEN + 'x' }), lookup), 'InvalidToken');
    await rejectsWith(authenticate(await headerSigned({ ...withoutToken, sessionToken: TOKEN + 'x' }), careless), 'InvalidToken');
    const longTerm = { accessKeyId: EXAMPLE.accessKeyId, secretAccessKey: EXAMPLE.secretAccessKey, sessionToken: TOKEN };
    await rejectsWith(authenticate(await headerSigned(longTerm), lookup), 'InvalidToken');
    await rejectsWith(authenticate(await headerSigned(longTerm), careless), 'InvalidToken');
  });

  it('an expired session: ExpiredToken', async () => {
    const late = new Date(SESSION.session!.expiresAt);
    await rejectsWith(authenticate(await headerSigned(withToken, late), lookup), 'ExpiredToken');
    await authenticate(await headerSigned(withToken, new Date(SESSION.session!.expiresAt - 1000)), lookup);
  });

  it('the token header must be signed, and the signature covers it', async () => {
    const signed = await signer(withToken).sign(
      { method: 'GET', protocol: 'http:', hostname: 'trove.test', port: 9000, path: '/b/k', query: {}, headers: { host: 'trove.test:9000', 'x-amz-content-sha256': EMPTY_SHA256 } },
      { signingDate: NOW, unsignableHeaders: new Set(['x-amz-security-token']) },
    );
    const e = await rejectsWith(authenticate(toRequest(signed), lookup), 'AccessDenied');
    assert.equal(e.details.HeadersNotSigned, 'x-amz-security-token');
  });

  it('a token given twice, or in the query beside an Authorization header: InvalidArgument', async () => {
    const req = await headerSigned(withToken);
    const twice = makeRequest({ method: 'GET', rawPath: '/b/k', headers: [...pairs(req), ['x-amz-security-token', TOKEN]], now: NOW });
    await rejectsWith(authenticate(twice, lookup), 'InvalidArgument');
    const inQuery = makeRequest({ method: 'GET', rawPath: '/b/k', rawQuery: `X-Amz-Security-Token=${TOKEN}`, headers: pairs(req), now: NOW });
    await rejectsWith(authenticate(inQuery, lookup), 'InvalidArgument');
  });

  it('an empty token means none', async () => {
    const r = await authenticate(await headerSigned({ accessKeyId: EXAMPLE.accessKeyId, secretAccessKey: EXAMPLE.secretAccessKey, sessionToken: '' }), lookup);
    assert.equal(r.identity?.accessKeyId, EXAMPLE.accessKeyId);
    assert.equal(r.identity?.session, undefined);
  });
});

function pairs(req: AuthRequest): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) out.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return out;
}

describe('temporary credentials, SigV4 presigned URL', () => {
  it('X-Amz-Security-Token in the signed query string', async () => {
    const req = await presigned(withToken);
    assert.match(req.rawQuery, /X-Amz-Security-Token=/);
    const r = await authenticate(req, lookup);
    assert.deepEqual(r.identity?.session, SESSION.session);
  });

  it('stops working when the session expires, before the URL does', async () => {
    const req = await presigned(withToken, 7200);
    await rejectsWith(authenticate({ ...req, now: new Date(SESSION.session!.expiresAt + 1000) }, lookup), 'ExpiredToken');
  });

  it('refuses a URL whose token was removed or replaced', async () => {
    const req = await presigned(withToken);
    const dropped = req.rawQuery.replace(/&?X-Amz-Security-Token=[^&]*/, '');
    await rejectsWith(authenticate({ ...req, rawQuery: dropped }, lookup), 'InvalidAccessKeyId');
    const replaced = req.rawQuery.replace(/X-Amz-Security-Token=[^&]*/, 'X-Amz-Security-Token=other');
    await rejectsWith(authenticate({ ...req, rawQuery: replaced }, lookup), 'InvalidToken');
    // A careless store answers the session for any token: the canonical query then differs.
    await rejectsWith(authenticate({ ...req, rawQuery: replaced }, careless), 'InvalidToken');
  });

  it('a URL signed without the token does not gain one', async () => {
    const req = await presigned(withoutToken);
    await rejectsWith(authenticate(req, lookup), 'InvalidAccessKeyId');
    await rejectsWith(authenticate({ ...req, rawQuery: `${req.rawQuery}&X-Amz-Security-Token=${TOKEN}` }, lookup), 'SignatureDoesNotMatch');
  });
});

function v2Sign(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign).digest('base64');
}

describe('temporary credentials, SigV2', () => {
  const date = NOW.toUTCString();

  it('header: the x-amz-security-token header is a signed amz header', async () => {
    const sts = ['GET', '', '', date, `x-amz-security-token:${TOKEN}\n/b/k`].join('\n');
    const headers: [string, string][] = [['Date', date], ['x-amz-security-token', TOKEN], ['Authorization', `AWS ${SESSION.accessKeyId}:${v2Sign(SESSION.secretAccessKey, sts)}`]];
    const r = await authenticate(makeRequest({ rawPath: '/b/k', headers, now: NOW }), lookup);
    assert.equal(r.method, 'sigv2-header');
    assert.deepEqual(r.identity?.session, SESSION.session);
    // Signed without the token, sent with it: the signature does not cover it.
    const unsigned = v2Sign(SESSION.secretAccessKey, ['GET', '', '', date, '/b/k'].join('\n'));
    await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', headers: [['Date', date], ['x-amz-security-token', TOKEN], ['Authorization', `AWS ${SESSION.accessKeyId}:${unsigned}`]], now: NOW }), lookup), 'SignatureDoesNotMatch');
    await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', headers: [['Date', date], ['Authorization', `AWS ${SESSION.accessKeyId}:${unsigned}`]], now: NOW }), lookup), 'InvalidAccessKeyId');
    // SigV2 does not sign a query parameter: a token there is refused, not ignored.
    await rejectsWith(
      authenticate(makeRequest({ rawPath: '/b/k', rawQuery: `x-amz-security-token=${TOKEN}`, headers: [['Date', date], ['Authorization', `AWS ${SESSION.accessKeyId}:${unsigned}`]], now: NOW }), lookup),
      'InvalidArgument',
    );
  });

  it('query string: x-amz-security-token signed as botocore signs it, expiry enforced', async () => {
    const expires = String(NOW.getTime() / 1000 + 600);
    const signature = v2Sign(SESSION.secretAccessKey, ['GET', '', '', expires, `x-amz-security-token:${TOKEN}\n/b/k`].join('\n'));
    const rawQuery = `AWSAccessKeyId=${SESSION.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(signature)}&x-amz-security-token=${TOKEN}`;
    const r = await authenticate(makeRequest({ rawPath: '/b/k', rawQuery, headers: [['Host', 'h']], now: NOW }), lookup);
    assert.equal(r.method, 'sigv2-query');
    assert.deepEqual(r.identity?.session, SESSION.session);
    // The token is part of what was signed: a URL signed without it cannot carry it.
    const bare = v2Sign(SESSION.secretAccessKey, ['GET', '', '', expires, '/b/k'].join('\n'));
    const added = `AWSAccessKeyId=${SESSION.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(bare)}&x-amz-security-token=${TOKEN}`;
    await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', rawQuery: added, headers: [['Host', 'h']], now: NOW }), lookup), 'SignatureDoesNotMatch');
    const expired = { ...SESSION, session: { ...SESSION.session!, expiresAt: NOW.getTime() } };
    await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', rawQuery, headers: [['Host', 'h']], now: NOW }), () => expired), 'ExpiredToken');
  });
});
