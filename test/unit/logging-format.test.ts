// The server access log formatter (src/logging/format.ts): every field in S3's order, its `-` and
// quoting rules, and records that stay one parseable line whatever the request carried.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecord, logKey, logTime, operationOf, type AccessRecord } from '../../src/logging/format.js';
import { logObjectKey } from '../../src/logging/keys.js';
import { parseRecord } from '../support/accesslog.js';

const base: AccessRecord = {
  bucketOwner: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
  bucket: 'amzn-s3-demo-bucket1',
  time: Date.UTC(2019, 1, 6, 0, 0, 38),
  remoteIp: '192.0.2.3',
  requester: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be',
  requestId: '3E57427F3EXAMPLE',
  operation: 'REST.GET.VERSIONING',
  requestUri: 'GET /amzn-s3-demo-bucket1?versioning HTTP/1.1',
  status: 200,
  bytesSent: 113,
  totalTimeMs: 7,
  turnAroundMs: 6.4,
  userAgent: 'S3Console/0.4',
  hostId: 's9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=',
  signatureVersion: 'SigV4',
  authType: 'AuthHeader',
  hostHeader: 'amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com',
};

describe('server access log records', () => {
  it("writes AWS's example record field for field", () => {
    assert.equal(
      formatRecord(base),
      '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 ' +
        '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" ' +
        '200 - 113 - 7 6 "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 - AuthHeader ' +
        'amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com - - -',
    );
  });

  it('parses back into its 26 fields, in order', () => {
    const f = parseRecord(
      formatRecord({ ...base, operation: 'REST.GET.OBJECT', key: 'photos/2019/08/puppy.jpg', objectSize: 3462992, versionId: '3HL4kqtJvjVBH40Nrjfkd', referer: 'https://example.com/', aclRequired: true, errorCode: 'NoSuchKey', status: 404 }),
    );
    assert.deepEqual(
      { ...f },
      {
        bucketOwner: base.bucketOwner,
        bucket: 'amzn-s3-demo-bucket1',
        time: '06/Feb/2019:00:00:38 +0000',
        remoteIp: '192.0.2.3',
        requester: base.requester,
        requestId: '3E57427F3EXAMPLE',
        operation: 'REST.GET.OBJECT',
        key: 'photos/2019/08/puppy.jpg',
        requestUri: 'GET /amzn-s3-demo-bucket1?versioning HTTP/1.1',
        status: '404',
        errorCode: 'NoSuchKey',
        bytesSent: '113',
        objectSize: '3462992',
        totalTime: '7',
        turnAround: '6',
        referer: 'https://example.com/',
        userAgent: 'S3Console/0.4',
        versionId: '3HL4kqtJvjVBH40Nrjfkd',
        hostId: base.hostId,
        signatureVersion: 'SigV4',
        cipherSuite: '-',
        authType: 'AuthHeader',
        hostHeader: base.hostHeader,
        tlsVersion: '-',
        accessPointArn: '-',
        aclRequired: 'Yes',
      },
    );
  });

  it('writes - for what is absent: anonymous requester, no key, zero bytes, no turn-around', () => {
    const f = parseRecord(formatRecord({ ...base, requester: undefined, remoteIp: undefined, bytesSent: 0, turnAroundMs: undefined, userAgent: undefined, signatureVersion: undefined, authType: undefined, hostHeader: undefined }));
    for (const k of ['requester', 'remoteIp', 'key', 'bytesSent', 'objectSize', 'turnAround', 'signatureVersion', 'authType', 'hostHeader', 'versionId', 'errorCode'] as const) assert.equal(f[k], '-', k);
    assert.equal(f.userAgent, '-');
    assert.equal(f.referer, '-');
  });

  it('keeps one line whatever the request carried: quotes, backslashes, control characters, spaces, brackets', () => {
    const line = formatRecord({
      ...base,
      key: 'a key/with "quotes" [and] brackets\n\t/ünïcødé/😀',
      userAgent: 'agent "quoted" \\ back\ttab\x01',
      referer: 'x" y',
      requestUri: 'GET /b/a%20key?x="1" HTTP/1.1',
      hostHeader: 'host with space',
    });
    assert.ok(!line.includes('\n'));
    const f = parseRecord(line);
    assert.equal(f.key, 'a%20key/with%20%22quotes%22%20%5Band%5D%20brackets%0A%09/%C3%BCn%C3%AFc%C3%B8d%C3%A9/%F0%9F%98%80');
    assert.equal(f.userAgent, 'agent \\"quoted\\" \\\\ back\\x09tab\\x01');
    assert.equal(f.referer, 'x\\" y');
    assert.equal(f.hostHeader, 'host\\x20with\\x20space');
    assert.equal(f.aclRequired, '-');
  });

  it('formats the time in UTC with the English month', () => {
    assert.equal(logTime(Date.UTC(2026, 11, 2, 7, 5, 9)), '[02/Dec/2026:07:05:09 +0000]');
  });

  it('URL-encodes keys, keeping /', () => {
    assert.equal(logKey('dir/sub dir/x+y=z&ü'), 'dir/sub%20dir/x%2By%3Dz%26%C3%BC');
  });

  it('names operations as S3 does', () => {
    assert.equal(operationOf('GetObject', 'GET', 'object', undefined), 'REST.GET.OBJECT');
    assert.equal(operationOf('PutObjectAcl', 'PUT', 'object', ['acl']), 'REST.PUT.ACL');
    assert.equal(operationOf('PutObjectLegalHold', 'PUT', 'object', ['legal-hold']), 'REST.PUT.LEGAL_HOLD');
    assert.equal(operationOf('DeleteObjects', 'POST', 'bucket', ['delete']), 'REST.POST.MULTI_OBJECT_DELETE');
    assert.equal(operationOf('ListObjectsV2', 'GET', 'bucket', ['list-type']), 'REST.GET.BUCKET');
    assert.equal(operationOf('GetBucketLogging', 'GET', 'bucket', ['logging']), 'REST.GET.LOGGING_STATUS');
    assert.equal(operationOf('CompleteMultipartUpload', 'POST', 'object', ['uploadId']), 'REST.POST.UPLOAD');
    assert.equal(operationOf('CopyObject', 'PUT', 'object', undefined), 'REST.PUT.OBJECT');
    assert.equal(operationOf('UploadPartCopy', 'PUT', 'object', ['partNumber', 'uploadId']), 'REST.PUT.PART');
  });
});

describe('log object keys', () => {
  const k = { prefix: 'log/', sourceAccountId: '123456789012', sourceRegion: 'us-east-1', sourceBucket: 'src', eventTime: Date.UTC(2026, 0, 31, 23, 59, 58), deliveryTime: Date.UTC(2026, 1, 1, 0, 4, 58), unique: 'batch-1' };

  it('SimplePrefix: [prefix][YYYY]-[MM]-[DD]-[hh]-[mm]-[ss]-[UniqueString]', () => {
    assert.match(logObjectKey({ ...k, format: { kind: 'simple' } }), /^log\/2026-02-01-00-04-58-[0-9A-F]{16}$/);
  });

  it('PartitionedPrefix: account/region/bucket/date of the events or of the delivery', () => {
    assert.match(logObjectKey({ ...k, format: { kind: 'partitioned', dateSource: 'EventTime' } }), /^log\/123456789012\/us-east-1\/src\/2026\/01\/31\/2026-02-01-00-04-58-[0-9A-F]{16}$/);
    assert.match(logObjectKey({ ...k, format: { kind: 'partitioned', dateSource: 'DeliveryTime' } }), /^log\/123456789012\/us-east-1\/src\/2026\/02\/01\/2026-02-01-00-04-58-[0-9A-F]{16}$/);
  });

  it('is the same for the same batch (a retried delivery overwrites) and differs between batches', () => {
    const a = logObjectKey({ ...k, format: { kind: 'simple' } });
    assert.equal(logObjectKey({ ...k, format: { kind: 'simple' } }), a);
    assert.notEqual(logObjectKey({ ...k, unique: 'batch-2', format: { kind: 'simple' } }), a);
  });
});
