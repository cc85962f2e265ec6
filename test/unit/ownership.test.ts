// Object Ownership: the OwnershipControls document and CreateBucket's x-amz-object-ownership.
// Expected errors are AWS's as LocalStack recorded them against AWS
// (tests/aws/services/s3/test_s3_api.snapshot.json, TestS3BucketOwnershipControls).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_OBJECT_OWNERSHIP,
  OBJECT_OWNERSHIPS,
  OWNERSHIP_ROOT,
  OWNERSHIP_XML_LIMITS,
  aclsEnabled,
  parseObjectOwnershipHeader,
  parseOwnershipControls,
  renderOwnershipControls,
} from '../../src/s3/bucket/config/ownership.js';
import { ERRORS, S3Error } from '../../src/s3/errors.js';
import { XmlReader, parseXmlBody, renderXml } from '../../src/s3/xml.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function parse(xml: string) {
  return parseOwnershipControls(parseXmlBody(xml, OWNERSHIP_ROOT));
}

function failure(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return { code: e.code, message: e.message, details: e.details };
  }
  assert.fail('expected an S3Error');
}

describe('OwnershipControls document', () => {
  it('reads a request shaped like the PutBucketOwnershipControls reference example', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html (Examples)
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<OwnershipControls ${NS}>
    <Rule>
        <ObjectOwnership>BucketOwnerPreferred</ObjectOwnership>
    </Rule>
</OwnershipControls>`;
    assert.equal(parse(xml), 'BucketOwnerPreferred');
  });

  for (const o of OBJECT_OWNERSHIPS) {
    it(`round-trips ${o}`, () => {
      const { root, body } = renderOwnershipControls(o);
      const xml = renderXml(root, body);
      assert.equal(xml, `<?xml version="1.0" encoding="UTF-8"?>\n<OwnershipControls ${NS}><Rule><ObjectOwnership>${o}</ObjectOwnership></Rule></OwnershipControls>`);
      assert.equal(parse(xml), o);
    });
  }

  it('reads a value with layout around it, and streams within its limits', () => {
    assert.equal(parse('<OwnershipControls><Rule><ObjectOwnership>\n  ObjectWriter\n</ObjectOwnership></Rule></OwnershipControls>'), 'ObjectWriter');
    const r = new XmlReader(OWNERSHIP_ROOT, OWNERSHIP_XML_LIMITS);
    r.write(Buffer.from('<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>'));
    assert.equal(parseOwnershipControls(r.end()), 'ObjectWriter');
  });

  const malformed: [string, string][] = [
    // AWS: put-ownership-multiple-rules, put-ownership-wrong-value, put-ownership-empty-rule
    ['two rules', '<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>'],
    ['an unknown value', '<OwnershipControls><Rule><ObjectOwnership>RandomValue</ObjectOwnership></Rule></OwnershipControls>'],
    ['no rule', '<OwnershipControls></OwnershipControls>'],
    ['an empty rule', '<OwnershipControls><Rule/></OwnershipControls>'],
    ['a rule without ObjectOwnership', '<OwnershipControls><Rule><Other>x</Other></Rule></OwnershipControls>'],
    ['two ObjectOwnership in a rule', '<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>'],
    ['another case', '<OwnershipControls><Rule><ObjectOwnership>objectwriter</ObjectOwnership></Rule></OwnershipControls>'],
    ['an empty value', '<OwnershipControls><Rule><ObjectOwnership/></Rule></OwnershipControls>'],
    ['another root', '<Ownership><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Ownership>'],
  ];
  for (const [name, xml] of malformed) {
    it(`refuses as MalformedXML: ${name}`, () => assert.equal(failure(() => parse(xml)).code, 'MalformedXML'));
  }
});

describe('x-amz-object-ownership', () => {
  it('is undefined when absent and any of the three values when given', () => {
    assert.equal(parseObjectOwnershipHeader(undefined), undefined);
    for (const o of OBJECT_OWNERSHIPS) assert.equal(parseObjectOwnershipHeader(o), o);
  });

  it('refuses other values as AWS does (ownership-wrong-value-at-creation, ownership-non-value-at-creation)', () => {
    assert.deepEqual(failure(() => parseObjectOwnershipHeader('RandomValue')), {
      code: 'InvalidArgument',
      message: 'Invalid x-amz-object-ownership header: RandomValue',
      details: { ArgumentName: 'x-amz-object-ownership' },
    });
    assert.deepEqual(failure(() => parseObjectOwnershipHeader('')), {
      code: 'InvalidArgument',
      message: 'Invalid x-amz-object-ownership header: ',
      details: { ArgumentName: 'x-amz-object-ownership' },
    });
  });
});

describe('ownership semantics', () => {
  it('disables ACLs only with BucketOwnerEnforced, the default for new buckets', () => {
    assert.equal(DEFAULT_OBJECT_OWNERSHIP, 'BucketOwnerEnforced');
    assert.equal(aclsEnabled('BucketOwnerEnforced'), false);
    assert.equal(aclsEnabled('BucketOwnerPreferred'), true);
    assert.equal(aclsEnabled('ObjectWriter'), true);
  });

  it('answers a bucket without controls with S3 404 OwnershipControlsNotFoundError', () => {
    // AWS: get-ownership-after-delete
    assert.deepEqual(ERRORS.OwnershipControlsNotFoundError, [404, 'The bucket ownership controls were not found']);
  });
});
