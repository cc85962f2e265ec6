// Block Public Access: the PublicAccessBlockConfiguration document, the combination of bucket and
// account settings, and what makes an ACL public.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY, aclAllows, cannedAcl, CANNED_ACLS, type Acl } from '../../src/authz/acl/index.js';
import {
  NO_PUBLIC_ACCESS_BLOCK,
  PUBLIC_ACCESS_BLOCK_ROOT,
  PUBLIC_ACCESS_BLOCK_XML_LIMITS,
  effectivePublicAccessBlock,
  isPublicAcl,
  parsePublicAccessBlock,
  refusePublicAcl,
  renderPublicAccessBlock,
  type PublicAccessBlock,
} from '../../src/s3/bucket/config/publicAccessBlock.js';
import { S3Error } from '../../src/s3/errors.js';
import { XmlReader, parseXmlBody, renderXml } from '../../src/s3/xml.js';

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';
const OWNER = { id: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' };
const ALL_ON: PublicAccessBlock = { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true };

function parse(xml: string): PublicAccessBlock {
  return parsePublicAccessBlock(parseXmlBody(xml, PUBLIC_ACCESS_BLOCK_ROOT));
}

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an S3Error');
}

const doc = (inner: string) => `<PublicAccessBlockConfiguration ${NS}>${inner}</PublicAccessBlockConfiguration>`;

describe('PublicAccessBlockConfiguration document', () => {
  const ok: { name: string; xml: string; want: PublicAccessBlock }[] = [
    {
      // The request syntax of https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutPublicAccessBlock.html,
      // its "boolean" placeholders filled in.
      name: 'all four settings',
      xml: `<?xml version="1.0" encoding="UTF-8"?>
<PublicAccessBlockConfiguration ${NS}>
   <BlockPublicAcls>true</BlockPublicAcls>
   <IgnorePublicAcls>true</IgnorePublicAcls>
   <BlockPublicPolicy>true</BlockPublicPolicy>
   <RestrictPublicBuckets>true</RestrictPublicBuckets>
</PublicAccessBlockConfiguration>`,
      want: ALL_ON,
    },
    {
      // AWS: put-public-access-block then get-public-access-block (LocalStack test_crud_public_access_block):
      // RestrictPublicBuckets was not sent and reads back false.
      name: 'an absent setting is false',
      xml: doc('<BlockPublicAcls>false</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy>'),
      want: NO_PUBLIC_ACCESS_BLOCK,
    },
    { name: 'one setting', xml: doc('<IgnorePublicAcls>true</IgnorePublicAcls>'), want: { ...NO_PUBLIC_ACCESS_BLOCK, ignorePublicAcls: true } },
    {
      // The data type reference: "Setting this element to TRUE causes the following behavior".
      name: 'values in any case, with layout',
      xml: doc('<BlockPublicAcls>TRUE</BlockPublicAcls><RestrictPublicBuckets>\n  True\n</RestrictPublicBuckets><BlockPublicPolicy>FALSE</BlockPublicPolicy>'),
      want: { ...NO_PUBLIC_ACCESS_BLOCK, blockPublicAcls: true, restrictPublicBuckets: true },
    },
    { name: 'any order', xml: doc('<RestrictPublicBuckets>true</RestrictPublicBuckets><BlockPublicAcls>true</BlockPublicAcls>'), want: { ...NO_PUBLIC_ACCESS_BLOCK, blockPublicAcls: true, restrictPublicBuckets: true } },
  ];
  for (const t of ok) it(`reads ${t.name}`, () => assert.deepEqual(parse(t.xml), t.want));

  const malformed: [string, string][] = [
    ['a value that is not a boolean', doc('<BlockPublicAcls>yes</BlockPublicAcls>')],
    ['1 for true', doc('<BlockPublicAcls>1</BlockPublicAcls>')],
    ['an empty value', doc('<BlockPublicAcls></BlockPublicAcls>')],
    ['a repeated setting', doc('<BlockPublicAcls>true</BlockPublicAcls><BlockPublicAcls>false</BlockPublicAcls>')],
    ['a setting with elements inside', doc('<BlockPublicAcls><x>true</x></BlockPublicAcls>')],
    ['another root', '<PublicAccessBlock><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlock>'],
  ];
  for (const [name, xml] of malformed) {
    it(`refuses as MalformedXML: ${name}`, () => assert.equal(failure(() => parse(xml)).code, 'MalformedXML'));
  }

  it('refuses a configuration that sets nothing', () => {
    for (const xml of [doc(''), doc('<Unknown>true</Unknown>'), `<PublicAccessBlockConfiguration/>`]) {
      assert.deepEqual(failure(() => parse(xml)), { code: 'InvalidRequest', message: 'Must specify at least one configuration.' });
    }
  });

  it('renders every setting in S3\'s order and reads it back', () => {
    const c: PublicAccessBlock = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
    const { root, body } = renderPublicAccessBlock(c);
    const xml = renderXml(root, body);
    assert.equal(
      xml,
      `<?xml version="1.0" encoding="UTF-8"?>\n<PublicAccessBlockConfiguration ${NS}>` +
        '<BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>' +
        '</PublicAccessBlockConfiguration>',
    );
    assert.deepEqual(parse(xml), c);
  });

  it('round-trips all sixteen combinations', () => {
    for (let bits = 0; bits < 16; bits++) {
      const c: PublicAccessBlock = { blockPublicAcls: !!(bits & 1), ignorePublicAcls: !!(bits & 2), blockPublicPolicy: !!(bits & 4), restrictPublicBuckets: !!(bits & 8) };
      const { root, body } = renderPublicAccessBlock(c);
      const r = new XmlReader(root, PUBLIC_ACCESS_BLOCK_XML_LIMITS);
      r.write(Buffer.from(renderXml(root, body)));
      assert.deepEqual(parsePublicAccessBlock(r.end()), c);
    }
  });
});

describe('effectivePublicAccessBlock', () => {
  // "Amazon S3 uses the most restrictive combination of the bucket-level and account-level settings."
  const bucket: PublicAccessBlock = { ...NO_PUBLIC_ACCESS_BLOCK, blockPublicAcls: true, blockPublicPolicy: true };
  const account: PublicAccessBlock = { ...NO_PUBLIC_ACCESS_BLOCK, blockPublicPolicy: true, restrictPublicBuckets: true };
  const table: { name: string; levels: (PublicAccessBlock | undefined)[]; want: PublicAccessBlock }[] = [
    { name: 'no configuration anywhere', levels: [undefined, undefined], want: NO_PUBLIC_ACCESS_BLOCK },
    { name: 'no level at all', levels: [], want: NO_PUBLIC_ACCESS_BLOCK },
    { name: 'bucket only', levels: [bucket, undefined], want: bucket },
    { name: 'account only', levels: [undefined, account], want: account },
    { name: 'each switch from either level', levels: [bucket, account], want: { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: true } },
    { name: 'a level with everything on', levels: [NO_PUBLIC_ACCESS_BLOCK, ALL_ON], want: ALL_ON },
    { name: 'access point, bucket and account', levels: [{ ...NO_PUBLIC_ACCESS_BLOCK, ignorePublicAcls: true }, bucket, account], want: ALL_ON },
  ];
  for (const t of table) it(t.name, () => assert.deepEqual(effectivePublicAccessBlock(...t.levels), t.want));

  it('does not change its inputs', () => {
    const b = { ...bucket };
    effectivePublicAccessBlock(b, ALL_ON);
    assert.deepEqual(b, bucket);
    assert.deepEqual(NO_PUBLIC_ACCESS_BLOCK, { blockPublicAcls: false, ignorePublicAcls: false, blockPublicPolicy: false, restrictPublicBuckets: false });
  });
});

describe('isPublicAcl', () => {
  // "Amazon S3 considers a bucket or object ACL public if it grants any permissions to members of
  // the predefined AllUsers or AuthenticatedUsers groups."
  const publicCanned = new Set(['public-read', 'public-read-write', 'authenticated-read']);
  for (const name of CANNED_ACLS) {
    it(`${name} is ${publicCanned.has(name) ? '' : 'not '}public`, () => {
      assert.equal(isPublicAcl(cannedAcl(name, { owner: OWNER, bucketOwner: { id: 'b'.repeat(64) }, forBucket: false })), publicCanned.has(name));
    });
  }

  it('is public for any permission to either group, and not for LogDelivery or users', () => {
    for (const permission of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] as const) {
      for (const uri of [ALL_USERS, AUTHENTICATED_USERS] as const) {
        assert.equal(isPublicAcl({ owner: OWNER, grants: [{ grantee: { type: 'Group', uri }, permission }] }), true);
      }
      assert.equal(isPublicAcl({ owner: OWNER, grants: [{ grantee: { type: 'Group', uri: LOG_DELIVERY }, permission }] }), false);
      assert.equal(isPublicAcl({ owner: OWNER, grants: [{ grantee: { type: 'CanonicalUser', id: 'c'.repeat(64) }, permission }] }), false);
    }
    assert.equal(isPublicAcl({ owner: OWNER, grants: [] }), false);
  });
});

describe('BlockPublicAcls and IgnorePublicAcls', () => {
  const publicRead = cannedAcl('public-read', { owner: OWNER, bucketOwner: OWNER, forBucket: true });
  const privateAcl = cannedAcl('private', { owner: OWNER, bucketOwner: OWNER, forBucket: true });

  it('BlockPublicAcls refuses setting a public ACL with AccessDenied, and only that', () => {
    assert.equal(failure(() => refusePublicAcl({ ...NO_PUBLIC_ACCESS_BLOCK, blockPublicAcls: true }, publicRead)).code, 'AccessDenied');
    refusePublicAcl({ ...NO_PUBLIC_ACCESS_BLOCK, blockPublicAcls: true }, privateAcl);
    refusePublicAcl({ ...ALL_ON, blockPublicAcls: false }, publicRead);
  });

  it('IgnorePublicAcls makes a public ACL grant nothing to the public', () => {
    const ignore = effectivePublicAccessBlock(undefined, { ...NO_PUBLIC_ACCESS_BLOCK, ignorePublicAcls: true });
    const acl: Acl = publicRead;
    assert.equal(aclAllows(acl, 'anonymous', 'READ'), true);
    assert.equal(aclAllows(acl, 'anonymous', 'READ', { ignorePublicGrants: ignore.ignorePublicAcls }), false);
    assert.equal(aclAllows(acl, { canonicalId: OWNER.id }, 'READ', { ignorePublicGrants: ignore.ignorePublicAcls }), true);
  });
});
