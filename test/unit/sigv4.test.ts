// SigV4 (header and presigned), SigV2 and mechanism selection, against the examples published
// in the AWS documentation and against an independent signer (@smithy/signature-v4).

import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { canonicalQuery, canonicalUri, parseQuery } from '../../src/auth/canonical.js';
import { openBody } from '../../src/auth/chunked.js';
import { authenticate } from '../../src/auth/sigv4.js';
import { scopeService } from '../../src/auth/v4common.js';
import type { AuthRequest, Credential } from '../../src/auth/types.js';
import {
  asyncLookup,
  deriveKey,
  drain,
  EMPTY_SHA256,
  EXAMPLE,
  EXAMPLE_DATE,
  lookup,
  makeRequest,
  NodeSha256,
  ODD,
  pieces,
  rejectsWith,
  strictEncode,
} from './auth-support.js';

const SCOPE = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';
const authorization = (signedHeaders: string, signature: string) =>
  `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=${signedHeaders},Signature=${signature}`;

// ---------------------------------------------------------------------------------------------
// The examples of "Signature Calculations for the Authorization Header" and of the presigned
// URL and chunked upload pages of the Amazon S3 API reference (all 20130524T000000Z).

describe('AWS documentation examples', () => {
  it('GET object with Range', async () => {
    const result = await authenticate(
      makeRequest({
        rawPath: '/test.txt',
        headers: [
          ['Host', 'examplebucket.s3.amazonaws.com'],
          ['Range', 'bytes=0-9'],
          ['x-amz-content-sha256', EMPTY_SHA256],
          ['x-amz-date', '20130524T000000Z'],
          ['Authorization', authorization('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41')],
        ],
      }),
      lookup,
    );
    assert.equal(result.method, 'sigv4-header');
    assert.deepEqual(result.identity, { accessKeyId: EXAMPLE.accessKeyId, userId: EXAMPLE.userId, accountId: EXAMPLE.accountId, displayName: EXAMPLE.displayName });
    assert.deepEqual(result.payload, { kind: 'sha256', expectedHex: EMPTY_SHA256 });
  });

  const putHeaders = (signature: string): [string, string][] => [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['Date', 'Fri, 24 May 2013 00:00:00 GMT'],
    ['Authorization', authorization('date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', signature)],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['x-amz-content-sha256', '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072'],
  ];
  const PUT_SIGNATURE = '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd';

  it('PUT object (key with $, signed payload), and the body verifies against the hash', async () => {
    // '$' may travel unescaped or as %24: the canonical URI is /test%24file.text either way.
    for (const rawPath of ['/test$file.text', '/test%24file.text']) {
      const result = await authenticate(makeRequest({ method: 'PUT', rawPath, headers: putHeaders(PUT_SIGNATURE) }), lookup);
      assert.equal(result.payload.kind, 'sha256');
      const body = Buffer.from('Welcome to Amazon S3.');
      assert.deepEqual(await drain(openBody(pieces(body, [5]), result.payload, body.length)), body);
      await rejectsWith(drain(openBody(pieces(Buffer.from('Welcome to Amazon S3!'), [5]), result.payload, 21)), 'XAmzContentSHA256Mismatch');
    }
  });

  it('GET bucket lifecycle (?lifecycle)', async () => {
    const result = await authenticate(
      makeRequest({
        rawQuery: 'lifecycle',
        headers: [
          ['Host', 'examplebucket.s3.amazonaws.com'],
          ['x-amz-date', '20130524T000000Z'],
          ['x-amz-content-sha256', EMPTY_SHA256],
          ['Authorization', authorization('host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543')],
        ],
      }),
      lookup,
    );
    assert.equal(result.method, 'sigv4-header');
  });

  it('GET bucket (list objects) with max-keys and prefix', async () => {
    const result = await authenticate(
      makeRequest({
        rawQuery: 'max-keys=2&prefix=J',
        headers: [
          ['Host', 'examplebucket.s3.amazonaws.com'],
          ['x-amz-date', '20130524T000000Z'],
          ['x-amz-content-sha256', EMPTY_SHA256],
          ['Authorization', authorization('host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7')],
        ],
      }),
      asyncLookup,
    );
    assert.equal(result.method, 'sigv4-header');
  });

  const PRESIGNED_QUERY =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';

  it('presigned URL (X-Amz-Expires=86400)', async () => {
    const request = (now: Date) =>
      makeRequest({ rawPath: '/test.txt', rawQuery: PRESIGNED_QUERY, headers: [['Host', 'examplebucket.s3.amazonaws.com']], now });
    const result = await authenticate(request(new Date(Date.UTC(2013, 4, 24, 23, 59, 59))), lookup);
    assert.equal(result.method, 'sigv4-query');
    assert.deepEqual(result.payload, { kind: 'unsigned' });

    const expired = await rejectsWith(authenticate(request(new Date(Date.UTC(2013, 4, 25, 0, 0, 1))), lookup), 'AccessDenied');
    assert.equal(expired.message, 'Request has expired');
    assert.deepEqual(expired.details, { 'X-Amz-Expires': 86400, Expires: '2013-05-25T00:00:00Z', ServerTime: '2013-05-25T00:00:01Z' });

    const early = await rejectsWith(authenticate(request(new Date(Date.UTC(2013, 4, 23, 23, 44, 0))), lookup), 'AccessDenied');
    assert.equal(early.message, 'Request is not valid yet');
    // Within the skew window before X-Amz-Date it is still accepted.
    await authenticate(request(new Date(Date.UTC(2013, 4, 23, 23, 46, 0))), lookup);

    await rejectsWith(
      authenticate(makeRequest({ rawPath: '/test.txt', rawQuery: PRESIGNED_QUERY + '&x=1', headers: [['Host', 'examplebucket.s3.amazonaws.com']] }), lookup),
      'SignatureDoesNotMatch',
    );
    // Without a hash in the URL, a body hash header becomes the signed payload hash (as at S3):
    // UNSIGNED-PAYLOAD matches what was signed, anything else does not.
    const withHash = (hash: string) =>
      makeRequest({ rawPath: '/test.txt', rawQuery: PRESIGNED_QUERY, headers: [['Host', 'examplebucket.s3.amazonaws.com'], ['x-amz-content-sha256', hash]] });
    await authenticate(withHash('UNSIGNED-PAYLOAD'), lookup);
    await rejectsWith(authenticate(withHash(EMPTY_SHA256), lookup), 'SignatureDoesNotMatch');
  });

  const STREAM_HEADERS: [string, string][] = [
    ['Host', 's3.amazonaws.com'],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
    ['Content-Encoding', 'aws-chunked'],
    ['x-amz-decoded-content-length', '66560'],
    ['Content-Length', '66824'],
  ];
  const STREAM_SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  const STREAM_BODY = Buffer.concat([
    Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
    Buffer.alloc(65536, 'a'),
    Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
    Buffer.alloc(1024, 'a'),
    Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);

  it('chunked upload: the seed signature, then every chunk signature', async () => {
    const result = await authenticate(
      makeRequest({
        method: 'PUT',
        rawPath: '/examplebucket/chunkObject.txt',
        headers: [
          ...STREAM_HEADERS,
          ['Authorization', authorization('content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class', STREAM_SEED)],
        ],
      }),
      lookup,
    );
    assert.equal(result.payload.kind, 'chunked');
    if (result.payload.kind !== 'chunked') return;
    assert.equal(result.payload.signed, true);
    assert.equal(result.payload.trailer, false);
    assert.equal(result.payload.decodedLength, 66560);
    assert.equal(result.payload.signing?.seedSignature, STREAM_SEED);
    assert.equal(result.payload.signing?.scope, '20130524/us-east-1/s3/aws4_request');
    assert.equal(result.payload.signing?.amzDate, '20130524T000000Z');
    assert.equal(STREAM_BODY.length, 66824);
    const body = openBody(pieces(STREAM_BODY, [4096]), result.payload, 66824);
    assert.deepEqual(await drain(body), Buffer.alloc(66560, 'a'));
    assert.equal(body.length, 66560);
  });

  it('chunked upload with a signed trailer (x-amz-checksum-crc32c)', async () => {
    const result = await authenticate(
      makeRequest({
        method: 'PUT',
        rawPath: '/examplebucket/chunkObject.txt',
        headers: [
          ['Host', 's3.amazonaws.com'],
          ['x-amz-date', '20130524T000000Z'],
          ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
          ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'],
          ['Content-Encoding', 'aws-chunked'],
          ['x-amz-decoded-content-length', '66560'],
          ['x-amz-trailer', 'x-amz-checksum-crc32c'],
          [
            'Authorization',
            authorization(
              'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
              '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
            ),
          ],
        ],
      }),
      lookup,
    );
    assert.ok(result.payload.kind === 'chunked' && result.payload.signed && result.payload.trailer);
    assert.deepEqual(result.payload.trailerNames, ['x-amz-checksum-crc32c']);
    const framed = Buffer.concat([
      Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
      Buffer.alloc(65536, 'a'),
      Buffer.from('\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n'),
      Buffer.alloc(1024, 'a'),
      Buffer.from('\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n'),
      Buffer.from('x-amz-checksum-crc32c:sOO8/Q==\r\n'),
      Buffer.from('x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n'),
    ]);
    const body = openBody(pieces(framed, [777]), result.payload, framed.length);
    assert.deepEqual(await drain(body), Buffer.alloc(66560, 'a'));
    assert.deepEqual(body.trailers, { 'x-amz-checksum-crc32c': 'sOO8/Q==' });

    const forged = Buffer.from(framed.toString('latin1').replace('sOO8/Q==', 'sOO8/A=='), 'latin1');
    await rejectsWith(drain(openBody(pieces(forged, [777]), result.payload, forged.length)), 'SignatureDoesNotMatch');
  });
});

// ---------------------------------------------------------------------------------------------
// Canonicalisation details

describe('canonical request pieces', () => {
  it('canonical URI decodes once and re-encodes every byte but unreserved and /', () => {
    assert.equal(canonicalUri('/b/a%20b+c'), '/b/a%20b%2Bc');
    assert.equal(canonicalUri("/b/!*'()$&=,;:@"), '/b/%21%2A%27%28%29%24%26%3D%2C%3B%3A%40');
    assert.equal(canonicalUri('/b/%D0%BA%D0%BB'), '/b/%D0%BA%D0%BB');
    assert.equal(canonicalUri('/b/%d0%ba'), '/b/%D0%BA');
    assert.equal(canonicalUri('/b/100%25/x'), '/b/100%25/x');
    // No normalisation: S3 keys may contain these.
    assert.equal(canonicalUri('/b//a/./../c/'), '/b//a/./../c/');
    // An encoded slash stays encoded-as-slash after decoding: it is a '/' byte.
    assert.equal(canonicalUri('/b/a%2Fb'), '/b/a/b');
    assert.equal(canonicalUri('/b/~a_b-c.d'), '/b/~a_b-c.d');
    assert.equal(canonicalUri(''), '/');
  });

  it('canonical query sorts by name then value, re-encodes, keeps empty values', () => {
    const q = (raw: string, exclude?: string) => canonicalQuery(parseQuery(raw), exclude);
    assert.equal(q('prefix=J&max-keys=2'), 'max-keys=2&prefix=J');
    assert.equal(q('b=2&a=x+y&a=%2B&c='), 'a=%2B&a=x%20y&b=2&c=');
    assert.equal(q('uploads'), 'uploads=');
    assert.equal(q('a=1&&b'), 'a=1&b=');
    assert.equal(q('k=%7e%2f/'), 'k=~%2F%2F');
    assert.equal(q('X-Amz-Signature=abc&z=1', 'X-Amz-Signature'), 'z=1');
    // Byte order, not locale order: upper case before lower case.
    assert.equal(q('b=1&B=2&a=3'), 'B=2&a=3&b=1');
  });
});

// ---------------------------------------------------------------------------------------------
// Errors, as S3 returns them

const NOW = EXAMPLE_DATE;
const AMZ_DATE = '20130524T000000Z';

interface SignedRequestSpec {
  method?: string;
  rawPath?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  credential?: Credential;
  region?: string;
  signingDate?: Date;
  now?: Date;
  /** Extra [name, value] pairs appended to rawHeaders after signing (not signed). */
  unsignedHeaders?: [string, string][];
  /** Header names to leave out of the signature. */
  unsignable?: string[];
}

function signer(credential: Credential, region: string): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
    region,
    service: 's3',
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
}

function encodeQuery(query: Record<string, string | string[]>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    for (const value of Array.isArray(v) ? v : [v]) parts.push(`${strictEncode(k)}=${strictEncode(value)}`);
  }
  return parts.join('&');
}

/** Signs with @smithy/signature-v4 (as the AWS SDK for JavaScript does) and builds the AuthRequest. */
async function smithySigned(spec: SignedRequestSpec): Promise<AuthRequest> {
  const credential = spec.credential ?? EXAMPLE;
  const headers: Record<string, string> = { host: 'trove.test:9000', 'x-amz-content-sha256': EMPTY_SHA256, ...(spec.headers ?? {}) };
  const signed = await signer(credential, spec.region ?? 'us-east-1').sign(
    {
      method: spec.method ?? 'GET',
      protocol: 'http:',
      hostname: 'trove.test',
      port: 9000,
      path: spec.rawPath ?? '/',
      query: spec.query ?? {},
      headers,
    },
    { signingDate: spec.signingDate ?? NOW, unsignableHeaders: new Set(spec.unsignable ?? []) },
  );
  const wire: [string, string][] = Object.entries(signed.headers).map(([k, v]) => [k, v]);
  return makeRequest({
    method: signed.method,
    rawPath: spec.rawPath ?? '/',
    rawQuery: encodeQuery(spec.query ?? {}),
    headers: [...wire, ...(spec.unsignedHeaders ?? [])],
    now: spec.now ?? NOW,
  });
}

/** Replaces (or removes, with undefined) a header of an AuthRequest. */
function withHeader(req: AuthRequest, name: string, value: string | undefined): AuthRequest {
  const raw: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== name.toLowerCase()) raw.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  }
  if (value !== undefined) raw.push([name, value]);
  return makeRequest({ method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: raw, now: req.now, region: req.region });
}

function getHeader(req: AuthRequest, name: string): string {
  const v = req.headers[name.toLowerCase()];
  assert.equal(typeof v, 'string');
  return v as string;
}

describe('SigV4 header errors', () => {
  it('no credentials at all is anonymous', async () => {
    const result = await authenticate(makeRequest({ headers: [['Host', 'h']] }), lookup);
    assert.deepEqual(result, { method: 'anonymous', identity: null, payload: { kind: 'unsigned' } });
  });

  it('unknown access key → InvalidAccessKeyId', async () => {
    const req = await smithySigned({ credential: { ...EXAMPLE, accessKeyId: 'AKIDNOTKNOWN' } });
    const e = await rejectsWith(authenticate(req, lookup), 'InvalidAccessKeyId');
    assert.equal(e.status, 403);
    assert.equal(e.details.AWSAccessKeyId, 'AKIDNOTKNOWN');
  });

  it('wrong secret → SignatureDoesNotMatch with the diagnostics S3 includes', async () => {
    const req = await smithySigned({ credential: { ...EXAMPLE, secretAccessKey: 'not-the-secret' }, rawPath: '/b/k' });
    const e = await rejectsWith(authenticate(req, lookup), 'SignatureDoesNotMatch');
    assert.equal(e.status, 403);
    assert.equal(e.details.AWSAccessKeyId, EXAMPLE.accessKeyId);
    assert.match(String(e.details.StringToSign), /^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
    assert.match(String(e.details.CanonicalRequest), /^GET\n\/b\/k\n\nhost:trove\.test:9000\n/);
    assert.match(String(e.details.SignatureProvided), /^[0-9a-f]{64}$/);
    assert.match(String(e.details.StringToSignBytes), /^41 57 53 34/);
    assert.match(String(e.details.CanonicalRequestBytes), /^47 45 54 0a/);
  });

  it('a credential scope for another region → AuthorizationHeaderMalformed naming the right one', async () => {
    const req = await smithySigned({ region: 'eu-west-1' });
    const e = await rejectsWith(authenticate(req, lookup), 'AuthorizationHeaderMalformed');
    assert.equal(e.status, 400);
    assert.equal(e.message, "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    assert.equal(e.details.Region, 'us-east-1');
  });

  it('malformed Authorization headers → AuthorizationHeaderMalformed', async () => {
    const req = await smithySigned({});
    const auth = getHeader(req, 'authorization');
    const cases: [string, RegExp][] = [
      ['AWS4-HMAC-SHA256 Credential=HAHAHA', /requires three components|mal-formed/],
      [auth.replace(/SignedHeaders=[^,]*,\s*/, ''), /requires three components/],
      [auth.replace('Credential=AKIAIOSFODNN7EXAMPLE/', 'Credential='), /Credential is mal-formed/],
      [auth.replace('/s3/', '/ec2/'), /incorrect service "ec2"/],
      [auth.replace('aws4_request', 'aws4_reques'), /incorrect terminal "aws4_reques"/],
      [auth.replace('/20130524/', '/2013-524/'), /incorrect date format/],
      [auth.replace('/20130524/', '/20130523/'), /Invalid credential date "20130523". This date is not the same as X-Amz-Date: "20130524"/],
      [auth + ', Foo=bar', /authorization component "Foo=bar" is malformed/],
    ];
    for (const [value, message] of cases) {
      const e = await rejectsWith(authenticate(withHeader(req, 'Authorization', value), lookup), 'AuthorizationHeaderMalformed');
      assert.match(e.message, message, value);
    }
  });

  it('no usable date → AccessDenied; the Date header works when x-amz-date is absent', async () => {
    const req = await smithySigned({});
    for (const bad of [undefined, '', 'Bad Date', '\x07', '20130524T000000', '20131324T000000Z', '19500707T215304Z']) {
      const e = await rejectsWith(authenticate(withHeader(req, 'x-amz-date', bad), lookup), 'AccessDenied');
      assert.equal(e.message, 'AWS authentication requires a valid Date or x-amz-date header');
    }
    // Signed with only a Date header (smithy always adds x-amz-date, so this one is signed by
    // hand): the string to sign carries the Date header's time in ISO 8601 basic form.
    const canonical = ['GET', '/b/k', '', 'date:Fri, 24 May 2013 00:00:00 GMT', 'host:h', `x-amz-content-sha256:${EMPTY_SHA256}`, '', 'date;host;x-amz-content-sha256', EMPTY_SHA256].join('\n');
    const sts = ['AWS4-HMAC-SHA256', AMZ_DATE, '20130524/us-east-1/s3/aws4_request', createHash('sha256').update(canonical).digest('hex')].join('\n');
    const signature = createHmac('sha256', deriveKey(EXAMPLE.secretAccessKey, '20130524', 'us-east-1')).update(sts).digest('hex');
    const dateOnly = (sig: string) =>
      makeRequest({
        rawPath: '/b/k',
        headers: [
          ['Host', 'h'],
          ['Date', 'Fri, 24 May 2013 00:00:00 GMT'],
          ['x-amz-content-sha256', EMPTY_SHA256],
          ['Authorization', authorization('date;host;x-amz-content-sha256', sig)],
        ],
      });
    assert.equal((await authenticate(dateOnly(signature), lookup)).method, 'sigv4-header');
    const e = await rejectsWith(authenticate(dateOnly('0'.repeat(64)), lookup), 'SignatureDoesNotMatch');
    assert.equal(e.details.StringToSign, sts);
  });

  it('a request time more than 15 minutes off → RequestTimeTooSkewed', async () => {
    const late = await smithySigned({ now: new Date(NOW.getTime() + 16 * 60_000) });
    const e = await rejectsWith(authenticate(late, lookup), 'RequestTimeTooSkewed');
    assert.equal(e.status, 403);
    assert.deepEqual(e.details, { RequestTime: AMZ_DATE, ServerTime: '2013-05-24T00:16:00Z', MaxAllowedSkewMilliseconds: 900000 });
    await rejectsWith(authenticate(await smithySigned({ now: new Date(NOW.getTime() - 16 * 60_000) }), lookup), 'RequestTimeTooSkewed');
    // 14 minutes either way is fine.
    await authenticate(await smithySigned({ now: new Date(NOW.getTime() + 14 * 60_000) }), lookup);
    await authenticate(await smithySigned({ now: new Date(NOW.getTime() - 14 * 60_000) }), lookup);
  });

  it('host and x-amz-* headers must be signed → AccessDenied with HeadersNotSigned', async () => {
    const noHost = await smithySigned({ unsignable: ['host'] });
    const e = await rejectsWith(authenticate(noHost, lookup), 'AccessDenied');
    assert.equal(e.message, 'There were headers present in the request which were not signed');
    assert.equal(e.details.HeadersNotSigned, 'host');

    const extra = await smithySigned({ unsignedHeaders: [['x-amz-meta-foo', 'bar'], ['x-amz-acl', 'private']] });
    const e2 = await rejectsWith(authenticate(extra, lookup), 'AccessDenied');
    assert.equal(e2.details.HeadersNotSigned, 'x-amz-meta-foo, x-amz-acl');

    // Unsigned headers that are not x-amz-* are allowed (user-agent, content-type, …).
    await authenticate(await smithySigned({ unsignedHeaders: [['User-Agent', 'x'], ['Content-Type', 'text/plain']] }), lookup);
  });

  it('a signed header missing from the request fails the signature', async () => {
    const req = await smithySigned({ headers: { 'x-amz-meta-custom': 'v' } });
    await rejectsWith(authenticate(withHeader(req, 'x-amz-meta-custom', undefined), lookup), 'SignatureDoesNotMatch');
  });

  it('x-amz-content-sha256: missing → InvalidRequest, unknown → InvalidArgument, SigV4a streaming → NotImplemented', async () => {
    const req = await smithySigned({});
    const missing = await rejectsWith(authenticate(withHeader(req, 'x-amz-content-sha256', undefined), lookup), 'InvalidRequest');
    assert.equal(missing.message, 'Missing required header for this request: x-amz-content-sha256');
    for (const bad of ['abc', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85', 'STREAMING-PAYLOAD', 'unsigned-payload']) {
      const e = await rejectsWith(authenticate(withHeader(req, 'x-amz-content-sha256', bad), lookup), 'InvalidArgument');
      assert.match(e.message, /^x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, .* or a valid sha256 value\.$/);
      assert.equal(e.details.ArgumentName, 'x-amz-content-sha256');
      assert.equal(e.details.ArgumentValue, bad);
    }
    for (const ecdsa of ['STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD', 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER']) {
      await rejectsWith(authenticate(withHeader(req, 'x-amz-content-sha256', ecdsa), lookup), 'NotImplemented');
    }
  });

  it('payload modes follow x-amz-content-sha256', async () => {
    const mode = async (hash: string, extra: Record<string, string> = {}) =>
      (await authenticate(await smithySigned({ method: 'PUT', rawPath: '/b/k', headers: { 'x-amz-content-sha256': hash, ...extra } }), lookup)).payload;
    assert.deepEqual(await mode('UNSIGNED-PAYLOAD'), { kind: 'unsigned' });
    assert.deepEqual(await mode('A'.repeat(64)), { kind: 'sha256', expectedHex: 'a'.repeat(64) });

    const signedStream = await mode('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { 'x-amz-decoded-content-length': '10' });
    assert.ok(signedStream.kind === 'chunked' && signedStream.signed && !signedStream.trailer);
    assert.equal(signedStream.signing?.signingKey.length, 32);

    const unsignedTrailer = await mode('STREAMING-UNSIGNED-PAYLOAD-TRAILER', {
      'x-amz-decoded-content-length': '0',
      'x-amz-trailer': 'x-amz-checksum-crc64nvme',
    });
    assert.deepEqual(unsignedTrailer, { kind: 'chunked', signed: false, trailer: true, decodedLength: 0, trailerNames: ['x-amz-checksum-crc64nvme'] });

    const signedTrailer = await mode('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', {
      'x-amz-decoded-content-length': '5',
      'x-amz-trailer': 'X-Amz-Checksum-CRC32',
    });
    assert.ok(signedTrailer.kind === 'chunked' && signedTrailer.signed && signedTrailer.trailer);
    assert.deepEqual(signedTrailer.trailerNames, ['x-amz-checksum-crc32']);

    const chunkedUnsigned = await rejectsWith(mode('UNSIGNED-PAYLOAD', { 'content-encoding': 'aws-chunked' }), 'InvalidArgument');
    assert.equal(chunkedUnsigned.details.ArgumentName, 'Content-Encoding');
    await rejectsWith(mode('STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), 'MissingContentLength');
    await rejectsWith(mode('STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-decoded-content-length': '1x' }), 'MissingContentLength');
    const e = await rejectsWith(
      mode('STREAMING-UNSIGNED-PAYLOAD-TRAILER', { 'x-amz-decoded-content-length': '1', 'x-amz-trailer': 'x-amz-meta-foo' }),
      'InvalidRequest',
    );
    assert.equal(e.message, 'The value specified in the x-amz-trailer header is not supported');
  });

  it('derived signing keys are cached, and a key change still takes effect', async () => {
    const first = await authenticate(await smithySigned({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '1' } }), lookup);
    const second = await authenticate(await smithySigned({ method: 'PUT', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '1' } }), lookup);
    assert.ok(first.payload.kind === 'chunked' && second.payload.kind === 'chunked');
    assert.equal(first.payload.signing?.signingKey, second.payload.signing?.signingKey, 'same Buffer from the cache');
    const rotated = { ...EXAMPLE, secretAccessKey: 'rotated' };
    await rejectsWith(authenticate(await smithySigned({}), () => rotated), 'SignatureDoesNotMatch');
  });

  it('a session token with a long-term key → InvalidToken', async () => {
    const req = await smithySigned({ headers: { 'x-amz-security-token': 'FQoGZXIvYXdzE' } });
    await rejectsWith(authenticate(req, lookup), 'InvalidToken');
  });

  it('header and query auth together → InvalidArgument', async () => {
    const req = await smithySigned({ query: { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' } });
    const e = await rejectsWith(authenticate(req, lookup), 'InvalidArgument');
    assert.match(e.message, /^Only one auth mechanism allowed/);
    assert.equal(e.details.ArgumentName, 'Authorization');
    const v2 = await rejectsWith(authenticate(makeRequest({ rawQuery: 'AWSAccessKeyId=a&Signature=b&Expires=1&X-Amz-Signature=c' }), lookup), 'InvalidArgument');
    assert.match(v2.message, /^Only one auth mechanism allowed/);
  });

  it('unknown Authorization schemes → InvalidArgument; SigV4a → NotImplemented', async () => {
    for (const value of ['Bearer abc', 'Basic dXNlcjpwYXNz', 'AWS4-HMAC-SHA512 Credential=x', 'Digest']) {
      const e = await rejectsWith(authenticate(makeRequest({ headers: [['Authorization', value]] }), lookup), 'InvalidArgument');
      assert.equal(e.details.ArgumentName, 'Authorization');
      assert.equal(e.details.ArgumentValue, value);
    }
    await rejectsWith(authenticate(makeRequest({ headers: [['Authorization', 'AWS4-ECDSA-P256-SHA256 Credential=x']] }), lookup), 'NotImplemented');
  });

  it('anonymous requests: hashes are verified, unsigned trailers decoded, signed streaming refused', async () => {
    const anon = (hash: string, extra: [string, string][] = []) =>
      authenticate(makeRequest({ method: 'PUT', headers: [['x-amz-content-sha256', hash], ...extra] }), lookup);
    assert.deepEqual((await anon('b'.repeat(64))).payload, { kind: 'sha256', expectedHex: 'b'.repeat(64) });
    const trailer = await anon('STREAMING-UNSIGNED-PAYLOAD-TRAILER', [['x-amz-decoded-content-length', '3'], ['x-amz-trailer', 'x-amz-checksum-crc32']]);
    assert.equal(trailer.payload.kind, 'chunked');
    assert.equal(trailer.identity, null);
    const e = await rejectsWith(anon('STREAMING-AWS4-HMAC-SHA256-PAYLOAD', [['x-amz-decoded-content-length', '3']]), 'InvalidRequest');
    assert.match(e.message, /^Anonymous requests don't support this x-amz-content-sha256 value/);
    await rejectsWith(anon('nonsense'), 'InvalidArgument');
  });
});

// ---------------------------------------------------------------------------------------------
// Cross-check with @smithy/signature-v4: what the AWS SDK for JavaScript signs, we accept; any
// single-byte change to what was signed, we refuse.

const ODD_KEYS = [
  'plain.txt',
  'with space/and  double  space.txt',
  'ключ/файл ü.txt',
  '日本語/テスト',
  'emoji 😀 key',
  'plus+sign+key',
  'percent%20literal%',
  "sub-delims!*'()$&=,;:@",
  'tilde~under_score-dash.dot',
  'a/b//c/./d/../e',
  '#hash?question',
  '[brackets]{braces}<angle>|pipe\\backslash^caret`tick"quote',
];

describe('cross-check with @smithy/signature-v4', () => {
  it('accepts requests for awkward keys, query strings and headers', async () => {
    for (const key of ODD_KEYS) {
      for (const credential of [EXAMPLE, ODD]) {
        const req = await smithySigned({
          method: 'PUT',
          credential,
          rawPath: '/bucket/' + strictEncode(key, true),
          query: {
            prefix: key,
            'list-type': '2',
            'continuation-token': 'a+b/c=d%e',
            empty: '',
            repeated: ['z', 'a', 'm'],
            'unicode-é': 'välue',
          },
          headers: {
            'x-amz-meta-spaces': '  lots   of    spaces\tand tab  ',
            'x-amz-meta-unicode': 'naïve',
            'content-type': 'text/plain; charset=utf-8',
            'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
          },
        });
        const result = await authenticate(req, lookup);
        assert.equal(result.identity?.accessKeyId, credential.accessKeyId, key);
      }
    }
  });

  it('joins repeated headers with commas, as the signer saw them joined', async () => {
    // smithy takes a header bag (one value per name): sign "v1,v2" and send it as two headers.
    const req = await smithySigned({ headers: { 'x-amz-meta-r': 'v1,v2' } });
    const raw: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i] === 'x-amz-meta-r') raw.push(['X-Amz-Meta-R', ' v1 '], ['x-amz-meta-r', 'v2']);
      else raw.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    }
    await authenticate(makeRequest({ rawPath: req.rawPath, rawQuery: req.rawQuery, headers: raw }), lookup);
  });

  it('refuses any single-byte change to method, path, query, headers or date', async () => {
    const spec: SignedRequestSpec = {
      method: 'PUT',
      rawPath: '/bucket/' + strictEncode('dir/ключ file+1.txt', true),
      query: { uploadId: 'abc', partNumber: '3' },
      headers: { 'x-amz-meta-a': 'value', 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' },
    };
    const req = await smithySigned(spec);
    await authenticate(req, lookup);

    const tampered: [string, AuthRequest][] = [
      ['method', { ...req, method: 'POST' }],
      ['path', { ...req, rawPath: req.rawPath.replace('file', 'filf') }],
      ['path case', { ...req, rawPath: req.rawPath.replace('%D0%BA', '%D0%BB') }],
      ['path trailing slash', { ...req, rawPath: req.rawPath + '/' }],
      ['query value', { ...req, rawQuery: req.rawQuery.replace('partNumber=3', 'partNumber=4') }],
      ['query added', { ...req, rawQuery: req.rawQuery + '&x=' }],
      ['query removed', { ...req, rawQuery: 'uploadId=abc' }],
      ['header value', withHeader(req, 'x-amz-meta-a', 'valuf')],
      ['content-md5', withHeader(req, 'content-md5', '1B2M2Y8AsgTpgAmY7PhCfh==')],
      ['host', withHeader(req, 'host', 'trove.test:9001')],
      ['date', withHeader(req, 'x-amz-date', '20130524T000001Z')],
      ['payload hash', withHeader(req, 'x-amz-content-sha256', 'f' + EMPTY_SHA256.slice(1))],
      ['signature', withHeader(req, 'authorization', getHeader(req, 'authorization').replace(/.$/, (c) => (c === '0' ? '1' : '0')))],
      ['signature upper-case', withHeader(req, 'authorization', getHeader(req, 'authorization').replace(/Signature=(\w+)/, (_, s: string) => `Signature=${s.toUpperCase()}`))],
    ];
    for (const [what, request] of tampered) {
      await rejectsWith(authenticate(request, lookup), 'SignatureDoesNotMatch').catch((e: unknown) => {
        throw new Error(`${what}: ${String(e)}`);
      });
    }
  });

  it('accepts smithy presigned URLs (as @aws-sdk/s3-request-presigner builds them) and refuses tampering', async () => {
    const presign = async (key: string, expiresIn: number, credential = EXAMPLE) => {
      const request = await signer(credential, 'us-east-1').presign(
        {
          method: 'GET',
          protocol: 'http:',
          hostname: 'trove.test',
          port: 9000,
          path: '/bucket/' + strictEncode(key, true),
          query: { 'response-content-disposition': 'attachment; filename="ü x.txt"', versionId: 'v1' },
          // What the S3 presigner does: sign UNSIGNED-PAYLOAD, which smithy hoists into the query.
          headers: { host: 'trove.test:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { signingDate: NOW, expiresIn },
      );
      return makeRequest({
        method: 'GET',
        rawPath: '/bucket/' + strictEncode(key, true),
        rawQuery: encodeQuery(request.query as Record<string, string>),
        headers: Object.entries(request.headers),
        now: new Date(NOW.getTime() + 60_000),
      });
    };
    for (const key of ODD_KEYS) {
      for (const credential of [EXAMPLE, ODD]) {
        const req = await presign(key, 3600, credential);
        assert.match(req.rawQuery, /x-amz-content-sha256=UNSIGNED-PAYLOAD/);
        const result = await authenticate(req, lookup);
        assert.equal(result.method, 'sigv4-query');
        assert.deepEqual(result.payload, { kind: 'unsigned' });
      }
    }
    const req = await presign('k', 3600);
    await rejectsWith(authenticate({ ...req, rawQuery: req.rawQuery.replace('versionId=v1', 'versionId=v2') }, lookup), 'SignatureDoesNotMatch');
    await rejectsWith(authenticate({ ...req, rawPath: '/bucket/l' }, lookup), 'SignatureDoesNotMatch');
    await rejectsWith(authenticate({ ...req, method: 'PUT' }, lookup), 'SignatureDoesNotMatch');
    await rejectsWith(authenticate(withHeader(req, 'host', 'other:9000'), lookup), 'SignatureDoesNotMatch');
    // The URL signed its payload hash in the query; a header cannot override it.
    assert.deepEqual((await authenticate(withHeader(req, 'x-amz-content-sha256', EMPTY_SHA256), lookup)).payload, { kind: 'unsigned' });
    // x-amz-* headers not covered by the URL.
    const e = await rejectsWith(authenticate(withHeader(req, 'x-amz-acl', 'public-read'), lookup), 'AccessDenied');
    assert.equal(e.details.HeadersNotSigned, 'x-amz-acl');
    // 7 days is the limit; smithy itself refuses more.
    await authenticate(await presign('k', 604800), lookup);
  });
});

// ---------------------------------------------------------------------------------------------

describe('presigned URL parameter errors', () => {
  const base: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': SCOPE,
    'X-Amz-Date': AMZ_DATE,
    'X-Amz-Expires': '3600',
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': '0'.repeat(64),
  };
  const attempt = (changes: Record<string, string | undefined>, headers: [string, string][] = [['Host', 'h']]) => {
    const q = { ...base, ...changes };
    const raw = Object.entries(q)
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => `${k}=${strictEncode(v)}`)
      .join('&');
    return authenticate(makeRequest({ rawQuery: raw, headers }), lookup);
  };

  it('X-Amz-Expires outside 1..604800 → AuthorizationQueryParametersError with S3 messages', async () => {
    const cases: [string, string][] = [
      ['604801', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
      ['-1', 'X-Amz-Expires must be non-negative'],
      ['0', 'X-Amz-Expires must be non-negative'],
      ['abc', 'X-Amz-Expires should be a number'],
      ['', 'X-Amz-Expires should be a number'],
    ];
    for (const [value, message] of cases) {
      const e = await rejectsWith(attempt({ 'X-Amz-Expires': value }), 'AuthorizationQueryParametersError');
      assert.equal(e.message, message);
      assert.equal(e.status, 400);
    }
  });

  it('missing parameters, bad algorithm, bad date, bad scope', async () => {
    for (const name of Object.keys(base)) {
      const e = await rejectsWith(attempt({ [name]: undefined }), 'AuthorizationQueryParametersError');
      assert.match(e.message, /^Query-string authentication version 4 requires the X-Amz-Algorithm/);
    }
    const alg = await rejectsWith(attempt({ 'X-Amz-Algorithm': 'AWS4-HMAC-SHA1' }), 'AuthorizationQueryParametersError');
    assert.equal(alg.message, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    const date = await rejectsWith(attempt({ 'X-Amz-Date': '2013-05-24T00:00:00Z' }), 'AuthorizationQueryParametersError');
    assert.match(date.message, /^X-Amz-Date must be in the ISO8601 Long Format/);
    const region = await rejectsWith(attempt({ 'X-Amz-Credential': SCOPE.replace('us-east-1', 'us-west-2') }), 'AuthorizationQueryParametersError');
    assert.equal(region.message, "Error parsing the X-Amz-Credential parameter; the region 'us-west-2' is wrong; expecting 'us-east-1'");
    assert.equal(region.details.Region, 'us-east-1');
    const day = await rejectsWith(attempt({ 'X-Amz-Credential': SCOPE.replace('20130524', '20130523') }), 'AuthorizationQueryParametersError');
    assert.equal(day.message, 'Invalid credential date "20130523". This date is not the same as X-Amz-Date: "20130524".');
    const host = await rejectsWith(attempt({ 'X-Amz-SignedHeaders': 'x-amz-date' }), 'AccessDenied');
    assert.equal(host.details.HeadersNotSigned, 'host');
    await rejectsWith(attempt({ 'X-Amz-Credential': 'NOPE/20130524/us-east-1/s3/aws4_request' }), 'InvalidAccessKeyId');
    await rejectsWith(attempt({}), 'SignatureDoesNotMatch');
    await rejectsWith(attempt({ 'X-Amz-Security-Token': 'tok' }), 'InvalidToken');
  });
});

// ---------------------------------------------------------------------------------------------
// SigV2 (HMAC-SHA1), with the string to sign built independently here.

function v2Sign(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign).digest('base64');
}

describe('SigV2', () => {
  const date = 'Fri, 24 May 2013 00:00:00 GMT';

  it('header: accepts a correctly signed request with amz headers and sub-resources', async () => {
    const sts = [
      'PUT',
      'XrY7u+Ae7tCTyyK7j1rNww==',
      'text/plain',
      date,
      'x-amz-acl:public-read\nx-amz-meta-multi:a,b\n/bucket/photos/puppy%20dog.jpg?acl&versionId=3+4',
    ].join('\n');
    const req = makeRequest({
      method: 'PUT',
      rawPath: '/bucket/photos/puppy%20dog.jpg',
      // 'acl' and 'versionId' are signed, 'foo' is not; '+' stays literal for SigV2.
      rawQuery: 'versionId=3+4&foo=bar&acl',
      headers: [
        ['Host', 'trove.test'],
        ['Date', date],
        ['Content-MD5', 'XrY7u+Ae7tCTyyK7j1rNww=='],
        ['Content-Type', 'text/plain'],
        ['X-Amz-Meta-Multi', 'a'],
        ['x-amz-meta-multi', ' b '],
        ['x-amz-acl', 'public-read'],
        ['Authorization', `AWS ${EXAMPLE.accessKeyId}:${v2Sign(EXAMPLE.secretAccessKey, sts)}`],
      ],
    });
    const result = await authenticate(req, lookup);
    assert.equal(result.method, 'sigv2-header');
    assert.equal(result.identity?.accessKeyId, EXAMPLE.accessKeyId);
  });

  it('header: virtual-hosted requests sign /bucket too; x-amz-date empties the Date line', async () => {
    const sts = ['GET', '', '', '', 'x-amz-date:Fri, 24 May 2013 00:00:00 GMT\n/bucket/key'].join('\n');
    const req = makeRequest({
      rawPath: '/key',
      virtualHostBucket: 'bucket',
      headers: [
        ['Host', 'bucket.trove.test'],
        ['x-amz-date', date],
        ['Authorization', `AWS ${ODD.accessKeyId}:${v2Sign(ODD.secretAccessKey, sts)}`],
      ],
    });
    assert.equal((await authenticate(req, lookup)).method, 'sigv2-header');
  });

  it('header errors: bad signature, unknown key, no date, skew, malformed', async () => {
    const auth = (sig: string, key = EXAMPLE.accessKeyId) => `AWS ${key}:${sig}`;
    const good = v2Sign(EXAMPLE.secretAccessKey, ['GET', '', '', date, '/b/k'].join('\n'));
    const req = (headers: [string, string][], now = NOW) => makeRequest({ rawPath: '/b/k', headers, now });
    await authenticate(req([['Date', date], ['Authorization', auth(good)]]), lookup);
    const e = await rejectsWith(authenticate(req([['Date', date], ['Authorization', auth('AAAA' + good.slice(4))]]), lookup), 'SignatureDoesNotMatch');
    assert.equal(e.details.StringToSign, `GET\n\n\n${date}\n/b/k`);
    assert.equal(e.details.AWSAccessKeyId, EXAMPLE.accessKeyId);
    await rejectsWith(authenticate(req([['Date', date], ['Authorization', auth(good, 'NOPE')]]), lookup), 'InvalidAccessKeyId');
    await rejectsWith(authenticate(req([['Authorization', auth(good)]]), lookup), 'AccessDenied');
    await rejectsWith(authenticate(req([['Date', 'Tue, 07 Jul 1950 21:53:04 GMT'], ['Authorization', auth(good)]]), lookup), 'AccessDenied');
    await rejectsWith(authenticate(req([['Date', date], ['Authorization', auth(good)]], new Date(NOW.getTime() + 3600_000)), lookup), 'RequestTimeTooSkewed');
    await rejectsWith(authenticate(req([['Date', date], ['Authorization', 'AWS nocolon']]), lookup), 'InvalidArgument');
  });

  it('query string: Expires in the date position, expiry enforced', async () => {
    const expires = String(NOW.getTime() / 1000 + 600);
    const sig = v2Sign(EXAMPLE.secretAccessKey, ['GET', '', '', expires, '/b/k?response-content-type=text/html'].join('\n'));
    const query = (s: string, exp = expires) =>
      `AWSAccessKeyId=${EXAMPLE.accessKeyId}&Expires=${exp}&Signature=${encodeURIComponent(s)}&response-content-type=${encodeURIComponent('text/html')}`;
    const result = await authenticate(makeRequest({ rawPath: '/b/k', rawQuery: query(sig), headers: [['Host', 'h']] }), lookup);
    assert.equal(result.method, 'sigv2-query');
    // A '+' left unescaped in the signature still works.
    await authenticate(makeRequest({ rawPath: '/b/k', rawQuery: query(sig).replace(/%2B/g, '+'), headers: [['Host', 'h']] }), lookup);

    const late = new Date(NOW.getTime() + 601_000);
    const e = await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', rawQuery: query(sig), now: late }), lookup), 'AccessDenied');
    assert.equal(e.message, 'Request has expired');
    assert.equal(e.details.Expires, '2013-05-24T00:10:00Z');
    await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', rawQuery: query(sig).replace('text', 'tex') }), lookup), 'SignatureDoesNotMatch');
    const missing = await rejectsWith(authenticate(makeRequest({ rawPath: '/b/k', rawQuery: 'AWSAccessKeyId=x&Signature=y' }), lookup), 'AccessDenied');
    assert.equal(missing.message, 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  });
});

// ---------------------------------------------------------------------------------------------
// The IAM API is served on the same listener: requests signed for service "iam", whose payload
// hash the pipeline computes (IAM clients send no x-amz-content-sha256).

describe('SigV4 for the IAM service', () => {
  const form = 'Action=ListUsers&Version=2010-05-08';
  const iamSigned = async (region: string, body = form, extra: Record<string, string> = {}): Promise<AuthRequest> => {
    const s = new SignatureV4({ credentials: { accessKeyId: EXAMPLE.accessKeyId, secretAccessKey: EXAMPLE.secretAccessKey }, region, service: 'iam', sha256: NodeSha256, applyChecksum: false });
    const signed = await s.sign(
      { method: 'POST', protocol: 'http:', hostname: 'trove.test', port: 9000, path: '/', query: {}, headers: { host: 'trove.test:9000', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...extra }, body },
      { signingDate: NOW },
    );
    return makeRequest({ method: 'POST', headers: Object.entries(signed.headers), now: NOW });
  };
  const hash = (s: string) => createHash('sha256').update(s).digest('hex');

  it('names the service in the scope, read before anything is verified', () => {
    assert.equal(scopeService(`AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00`, undefined), 'iam');
    assert.equal(scopeService(undefined, 'AKID/20130524/us-east-1/s3/aws4_request'), 's3');
    assert.equal(scopeService('AWS AKID:sig', undefined), undefined);
    assert.equal(scopeService(undefined, undefined), undefined);
  });

  it('verifies an IAM request against the hash of its body, for the server region or us-east-1', async () => {
    const req = await iamSigned('us-east-1');
    const ok = await authenticate({ ...req, service: 'iam', payloadHash: hash(form) }, lookup);
    assert.equal(ok.identity?.accessKeyId, EXAMPLE.accessKeyId);
    const elsewhere = await iamSigned('us-east-1');
    await authenticate({ ...elsewhere, region: 'eu-west-1', extraRegions: ['us-east-1'], service: 'iam', payloadHash: hash(form) }, lookup);
    const euSigned = await iamSigned('eu-west-1');
    await authenticate({ ...euSigned, region: 'eu-west-1', extraRegions: ['us-east-1'], service: 'iam', payloadHash: hash(form) }, lookup);
    const apSigned = await iamSigned('ap-south-1');
    await rejectsWith(authenticate({ ...apSigned, region: 'eu-west-1', extraRegions: ['us-east-1'], service: 'iam', payloadHash: hash(form) }, lookup), 'AuthorizationHeaderMalformed');
  });

  it('refuses a body other than the one signed, an IAM scope on the S3 road, and unsigned IAM requests', async () => {
    const req = await iamSigned('us-east-1');
    await rejectsWith(authenticate({ ...req, service: 'iam', payloadHash: hash(form + '&UserName=x') }, lookup), 'SignatureDoesNotMatch');
    // The S3 pipeline checks the scope names s3 (and demands x-amz-content-sha256).
    await rejectsWith(authenticate({ ...req, payloadHash: hash(form) }, lookup), 'AuthorizationHeaderMalformed');
    // A declared payload hash must be the body's.
    const declared = await iamSigned('us-east-1', form, { 'x-amz-content-sha256': hash('other') });
    await rejectsWith(authenticate({ ...declared, service: 'iam', payloadHash: hash(form) }, lookup), 'XAmzContentSHA256Mismatch');
    await rejectsWith(authenticate({ ...makeRequest({ method: 'POST', now: NOW }), service: 'iam', payloadHash: hash('') }, lookup), 'AccessDenied');
  });
});
