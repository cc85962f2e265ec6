// The POST policy document on its own: parsing, every condition kind, the coverage rule and the
// content-length-range it hands to the upload.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkPolicy, parsePolicy } from '../../src/auth/post.js';
import { S3Error } from '../../src/s3/errors.js';

const b64 = (doc: unknown) => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)).toString('base64');
const policy = (conditions: unknown[], expiration = '2099-01-01T00:00:00.000Z') => parsePolicy(b64({ expiration, conditions }));
const NOW = new Date('2030-01-01T00:00:00Z');

function fails(f: () => unknown, code: string, message?: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof S3Error);
    assert.equal(e.code, code);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

describe('POST policy', () => {
  it('exact matches, eq and starts-with; names case-insensitive, values case-sensitive', () => {
    const p = policy([{ Bucket: 'b' }, ['EQ', '$Key', 'k'], ['Starts-With', '$X-Amz-Meta-A', 'v']]);
    assert.equal(checkPolicy(p, new Map([['bucket', 'b'], ['key', 'k'], ['x-amz-meta-a', 'v1']]), NOW), undefined);
    fails(() => checkPolicy(p, new Map([['bucket', 'b'], ['key', 'K'], ['x-amz-meta-a', 'v1']]), NOW), 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "k"]');
  });

  it('starts-with "" allows any value or none; eq "" allows none; Content-Type lists match type by type', () => {
    const p = policy([['starts-with', '$key', ''], ['eq', '$x-amz-meta-x', ''], ['starts-with', '$content-type', 'image/']]);
    assert.equal(checkPolicy(p, new Map([['content-type', 'image/png,image/gif']]), NOW), undefined);
    fails(() => checkPolicy(p, new Map([['content-type', 'image/png, text/plain']]), NOW), 'AccessDenied');
    fails(() => checkPolicy(p, new Map([['content-type', 'image/png'], ['x-amz-meta-x', 'set']]), NOW), 'AccessDenied');
  });

  it('every field but the exempt ones needs a condition', () => {
    const p = policy([{ key: 'k' }]);
    const exempt = new Map([['key', 'k'], ['policy', 'p'], ['x-amz-signature', 's'], ['signature', 's'], ['awsaccesskeyid', 'a'], ['x-ignore-submit', 'go'], ['x-amz-checksum-crc32', 'AAAAAA==']]);
    assert.equal(checkPolicy(p, exempt, NOW), undefined);
    fails(() => checkPolicy(p, new Map([['key', 'k'], ['acl', 'private'], ['success_action_status', '201']]), NOW), 'AccessDenied', 'Invalid according to Policy: Extra input fields: acl, success_action_status');
  });

  it('content-length-range: several intersect; bounds must be whole, non-negative and ordered', () => {
    const p = policy([['content-length-range', 0, 100], ['content-length-range', '10', 1000]]);
    assert.deepEqual(checkPolicy(p, new Map(), NOW), { min: 10, max: 100 });
    for (const bad of [[-1, 5], [5, 1], [0], [0, 1.5], [0, 'x']]) fails(() => policy([['content-length-range', ...bad]]), 'InvalidPolicyDocument');
  });

  it('expiration: ISO 8601 in UTC, checked against the time of the request', () => {
    assert.equal(checkPolicy(policy([], '2030-01-01T00:00:01Z'), new Map(), NOW), undefined);
    fails(() => checkPolicy(policy([], '2029-12-31T23:59:59.999Z'), new Map(), NOW), 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    for (const bad of ['2030-01-01', '2030-01-01 00:00:00', '2030-01-01T00:00:00+01:00', 1893456000]) fails(() => policy([], bad as string), 'InvalidPolicyDocument');
  });

  it('documents that are not policies', () => {
    for (const doc of ['[]', '"x"', 'not json', { conditions: [] }, { expiration: '2099-01-01T00:00:00Z' }, { expiration: '2099-01-01T00:00:00Z', conditions: {} }, { expiration: '2099-01-01T00:00:00Z', conditions: [], extra: 1 }]) {
      fails(() => parsePolicy(b64(doc)), 'InvalidPolicyDocument');
    }
    for (const c of [{}, { a: 'x', b: 'y' }, { a: 1 }, ['eq', 'key', 'x'], ['eq', '$key'], ['in', '$key', 'x'], 'key', 5]) fails(() => policy([c]), 'InvalidPolicyDocument');
  });
});
