// ACLs as values: canned ACLs, what an ACL allows, the action → permission table, the stored
// form and the rendered document (parsed back).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALL_USERS,
  AUTHENTICATED_USERS,
  ACL_XML_LIMITS,
  CANNED_ACLS,
  CorruptAclError,
  EC2_BUNDLE_READER,
  LOG_DELIVERY,
  aclAllows,
  aclPermissionFor,
  cannedAcl,
  deserializeAcl,
  isPublicGrantee,
  parseAclXml,
  parseCannedAcl,
  renderAcl,
  serializeAcl,
  type Acl,
  type AclRequester,
  type Grant,
  type Permission,
} from '../../src/authz/acl/index.js';
import { S3Error } from '../../src/s3/errors.js';
import { parseXmlBody, renderXml } from '../../src/s3/xml.js';

const OWNER = { id: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be', displayName: 'owner' };
const BUCKET_OWNER = { id: '852b113e7a2f25102679df27bb0ae12b3f85be6f290b936c4393484be31bebcc', displayName: 'bucket-owner' };
const OTHER = '0d4b3bc7a6c2d3a5b7a3e5f4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0';

const user = (o: { id: string; displayName?: string }, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', ...o }, permission });
const grp = (uri: typeof ALL_USERS | typeof AUTHENTICATED_USERS | typeof LOG_DELIVERY, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

function s3code(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return { code: e.code, message: e.message, details: e.details };
  }
  assert.fail('expected an S3Error');
}

describe('canned ACLs', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl
  const ownerFC = user(OWNER, 'FULL_CONTROL');
  const table: { name: string; object: Grant[]; bucket: Grant[] }[] = [
    { name: 'private', object: [ownerFC], bucket: [ownerFC] },
    // Group grants before the owner's, as Ceph RGW lists them (AWS lists the owner first; order
    // carries no meaning, but RGW-era clients and the Ceph suite index the list).
    { name: 'public-read', object: [grp(ALL_USERS, 'READ'), ownerFC], bucket: [grp(ALL_USERS, 'READ'), ownerFC] },
    {
      name: 'public-read-write',
      object: [grp(ALL_USERS, 'READ'), grp(ALL_USERS, 'WRITE'), ownerFC],
      bucket: [grp(ALL_USERS, 'READ'), grp(ALL_USERS, 'WRITE'), ownerFC],
    },
    { name: 'aws-exec-read', object: [ownerFC, user(EC2_BUNDLE_READER, 'READ')], bucket: [ownerFC, user(EC2_BUNDLE_READER, 'READ')] },
    { name: 'authenticated-read', object: [grp(AUTHENTICATED_USERS, 'READ'), ownerFC], bucket: [grp(AUTHENTICATED_USERS, 'READ'), ownerFC] },
    // "If you specify this canned ACL when creating a bucket, Amazon S3 ignores it."
    { name: 'bucket-owner-read', object: [ownerFC, user(BUCKET_OWNER, 'READ')], bucket: [ownerFC] },
    { name: 'bucket-owner-full-control', object: [ownerFC, user(BUCKET_OWNER, 'FULL_CONTROL')], bucket: [ownerFC] },
    {
      name: 'log-delivery-write',
      object: [grp(LOG_DELIVERY, 'WRITE'), grp(LOG_DELIVERY, 'READ_ACP'), ownerFC],
      bucket: [grp(LOG_DELIVERY, 'WRITE'), grp(LOG_DELIVERY, 'READ_ACP'), ownerFC],
    },
  ];

  it('covers every canned name', () => {
    assert.deepEqual(table.map((t) => t.name).sort(), [...CANNED_ACLS].sort());
  });

  for (const t of table) {
    it(`${t.name} on an object`, () => {
      assert.deepEqual(cannedAcl(t.name, { owner: OWNER, bucketOwner: BUCKET_OWNER, forBucket: false }), { owner: OWNER, grants: t.object });
    });
    it(`${t.name} on a bucket`, () => {
      // A bucket's owner is its bucket owner.
      const bucketAcl = cannedAcl(t.name, { owner: OWNER, bucketOwner: OWNER, forBucket: true });
      assert.deepEqual(bucketAcl, { owner: OWNER, grants: t.bucket });
    });
    it(`${t.name} survives render → parse and serialize → deserialize`, () => {
      const acl = cannedAcl(t.name, { owner: OWNER, bucketOwner: BUCKET_OWNER, forBucket: false });
      assert.deepEqual(deserializeAcl(serializeAcl(acl)), acl);
      const { root, body } = renderAcl(acl);
      assert.deepEqual(parseAclXml(parseXmlBody(renderXml(root, body), root, 'MalformedACLError', { attributes: true })), acl);
    });
  }

  it('gives the bucket owner nothing more when it wrote the object itself', () => {
    for (const name of ['bucket-owner-read', 'bucket-owner-full-control']) {
      assert.deepEqual(cannedAcl(name, { owner: BUCKET_OWNER, bucketOwner: BUCKET_OWNER, forBucket: false }).grants, [user(BUCKET_OWNER, 'FULL_CONTROL')]);
    }
  });

  it('omits display names that are not known', () => {
    const acl = cannedAcl('private', { owner: { id: OWNER.id }, bucketOwner: { id: OWNER.id }, forBucket: true });
    assert.deepEqual(acl, { owner: { id: OWNER.id }, grants: [{ grantee: { type: 'CanonicalUser', id: OWNER.id }, permission: 'FULL_CONTROL' }] });
  });

  it('refuses an unknown name as AWS does: InvalidArgument, empty message, the header named', () => {
    // LocalStack test_s3_bucket_acl_exceptions, "put-bucket-canned-acl" (recorded against AWS).
    for (const bad of ['fake-acl', 'Private', 'public-read ', '']) {
      const e = s3code(() => cannedAcl(bad, { owner: OWNER, bucketOwner: OWNER, forBucket: true }));
      assert.deepEqual(e, { code: 'InvalidArgument', message: '', details: { ArgumentName: 'x-amz-acl', ArgumentValue: bad } });
      assert.equal(s3code(() => parseCannedAcl(bad)).code, 'InvalidArgument');
    }
  });
});

describe('aclAllows', () => {
  const acl: Acl = {
    owner: OWNER,
    grants: [user(OWNER, 'FULL_CONTROL'), user({ id: OTHER }, 'READ'), grp(AUTHENTICATED_USERS, 'READ_ACP'), grp(ALL_USERS, 'WRITE'), grp(LOG_DELIVERY, 'READ')],
  };
  const owner: AclRequester = { canonicalId: OWNER.id };
  const other: AclRequester = { canonicalId: OTHER };
  const stranger: AclRequester = { canonicalId: 'f'.repeat(64) };
  const anon: AclRequester = 'anonymous';

  const table: { who: string; req: AclRequester; allowed: Permission[]; ignoringPublic: Permission[] }[] = [
    // FULL_CONTROL implies every permission.
    { who: 'owner', req: owner, allowed: ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'], ignoringPublic: ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] },
    // Its own READ, AuthenticatedUsers' READ_ACP, AllUsers' WRITE.
    { who: 'grantee by id', req: other, allowed: ['READ', 'WRITE', 'READ_ACP'], ignoringPublic: ['READ'] },
    { who: 'any signed requester', req: stranger, allowed: ['WRITE', 'READ_ACP'], ignoringPublic: [] },
    // AllUsers only; LogDelivery is never a requester.
    { who: 'anonymous', req: anon, allowed: ['WRITE'], ignoringPublic: [] },
  ];
  for (const t of table) {
    for (const p of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] as const) {
      it(`${t.who} ${t.allowed.includes(p) ? 'has' : 'lacks'} ${p}`, () => {
        assert.equal(aclAllows(acl, t.req, p), t.allowed.includes(p));
        assert.equal(aclAllows(acl, t.req, p, { ignorePublicGrants: true }), t.ignoringPublic.includes(p));
      });
    }
  }

  it('lets the owner read and write the ACL even without a grant, and nothing else', () => {
    const bare: Acl = { owner: OWNER, grants: [] };
    assert.equal(aclAllows(bare, owner, 'READ_ACP'), true);
    assert.equal(aclAllows(bare, owner, 'WRITE_ACP'), true);
    assert.equal(aclAllows(bare, owner, 'READ'), false);
    assert.equal(aclAllows(bare, owner, 'WRITE'), false);
    assert.equal(aclAllows(bare, owner, 'FULL_CONTROL'), false);
    assert.equal(aclAllows(bare, anon, 'READ_ACP'), false);
  });

  it('never matches an email grantee (stored ACLs hold users)', () => {
    const withEmail: Acl = { owner: OWNER, grants: [{ grantee: { type: 'AmazonCustomerByEmail', email: 'xyz@amazon.com' }, permission: 'FULL_CONTROL' }] };
    assert.equal(aclAllows(withEmail, other, 'READ'), false);
  });

  it('public grantees are AllUsers and AuthenticatedUsers, not LogDelivery or users', () => {
    assert.equal(isPublicGrantee({ type: 'Group', uri: ALL_USERS }), true);
    assert.equal(isPublicGrantee({ type: 'Group', uri: AUTHENTICATED_USERS }), true);
    assert.equal(isPublicGrantee({ type: 'Group', uri: LOG_DELIVERY }), false);
    assert.equal(isPublicGrantee({ type: 'CanonicalUser', id: OTHER }), false);
  });
});

describe('aclPermissionFor', () => {
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
  // "Mapping of ACL permissions and access policy permissions"
  const table: [action: string, bucket: Permission | undefined, object: Permission | undefined][] = [
    ['s3:ListBucket', 'READ', undefined],
    ['s3:ListBucketVersions', 'READ', undefined],
    ['s3:ListBucketMultipartUploads', 'READ', undefined],
    ['s3:PutObject', 'WRITE', undefined],
    ['s3:DeleteObject', 'WRITE', undefined],
    ['s3:GetBucketAcl', 'READ_ACP', undefined],
    ['s3:PutBucketAcl', 'WRITE_ACP', undefined],
    ['s3:GetObject', undefined, 'READ'],
    ['s3:GetObjectVersion', undefined, 'READ'],
    ['s3:GetObjectTorrent', undefined, 'READ'],
    ['s3:GetObjectAcl', undefined, 'READ_ACP'],
    ['s3:GetObjectVersionAcl', undefined, 'READ_ACP'],
    ['s3:PutObjectAcl', undefined, 'WRITE_ACP'],
    ['s3:PutObjectVersionAcl', undefined, 'WRITE_ACP'],
    // Not grantable by any ACL: only owners and policies.
    ['s3:PutBucketPolicy', undefined, undefined],
    ['s3:GetBucketOwnershipControls', undefined, undefined],
    ['s3:PutObjectTagging', undefined, undefined],
    ['s3:DeleteBucket', undefined, undefined],
    ['s3:toString', undefined, undefined],
    ['constructor', undefined, undefined],
  ];
  for (const [action, bucket, object] of table) {
    it(`${action}: bucket ${bucket ?? '—'}, object ${object ?? '—'}`, () => {
      assert.equal(aclPermissionFor(action, 'bucket'), bucket);
      assert.equal(aclPermissionFor(action, 'object'), object);
    });
  }

  it('grants s3:DeleteObjectVersion through the bucket WRITE only to the bucket owner', () => {
    assert.equal(aclPermissionFor('s3:DeleteObjectVersion', 'bucket'), undefined);
    assert.equal(aclPermissionFor('s3:DeleteObjectVersion', 'bucket', { requesterIsBucketOwner: false }), undefined);
    assert.equal(aclPermissionFor('s3:DeleteObjectVersion', 'bucket', { requesterIsBucketOwner: true }), 'WRITE');
    assert.equal(aclPermissionFor('s3:DeleteObjectVersion', 'object', { requesterIsBucketOwner: true }), undefined);
  });
});

describe('renderAcl', () => {
  it('writes the document S3 returns, xmlns:xsi and xsi:type on each Grantee', () => {
    const acl: Acl = {
      owner: OWNER,
      grants: [user(OWNER, 'FULL_CONTROL'), user({ id: OTHER }, 'READ'), grp(ALL_USERS, 'READ'), { grantee: { type: 'AmazonCustomerByEmail', email: 'a&b@example.com' }, permission: 'WRITE_ACP' }],
    };
    const { root, body } = renderAcl(acl);
    const xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
    assert.equal(
      renderXml(root, body),
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Owner><ID>${OWNER.id}</ID><DisplayName>owner</DisplayName></Owner>` +
        '<AccessControlList>' +
        `<Grant><Grantee ${xsi} xsi:type="CanonicalUser"><ID>${OWNER.id}</ID><DisplayName>owner</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
        `<Grant><Grantee ${xsi} xsi:type="CanonicalUser"><ID>${OTHER}</ID></Grantee><Permission>READ</Permission></Grant>` +
        `<Grant><Grantee ${xsi} xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
        `<Grant><Grantee ${xsi} xsi:type="AmazonCustomerByEmail"><EmailAddress>a&amp;b@example.com</EmailAddress></Grantee><Permission>WRITE_ACP</Permission></Grant>` +
        '</AccessControlList></AccessControlPolicy>',
    );
    assert.deepEqual(parseAclXml(parseXmlBody(renderXml(root, body), root, 'MalformedACLError', { attributes: true })), acl);
  });

  it('writes an empty AccessControlList for an ACL without grants, and reads it back', () => {
    const acl: Acl = { owner: { id: OWNER.id }, grants: [] };
    const { root, body } = renderAcl(acl);
    const xml = renderXml(root, body);
    assert.match(xml, /<Owner><ID>[0-9a-f]+<\/ID><\/Owner><AccessControlList><\/AccessControlList>/);
    assert.deepEqual(parseAclXml(parseXmlBody(xml, root, 'MalformedACLError', ACL_XML_LIMITS)), acl);
  });
});

describe('serializeAcl / deserializeAcl', () => {
  const acl: Acl = {
    owner: OWNER,
    grants: [user(OWNER, 'FULL_CONTROL'), user({ id: OTHER }, 'READ'), grp(LOG_DELIVERY, 'WRITE'), { grantee: { type: 'AmazonCustomerByEmail', email: 'x@example.com' }, permission: 'READ_ACP' }],
  };

  it('round-trips, keeping grant order', () => {
    assert.deepEqual(deserializeAcl(serializeAcl(acl)), acl);
    const reversed = { ...acl, grants: [...acl.grants].reverse() };
    assert.deepEqual(deserializeAcl(serializeAcl(reversed)), reversed);
  });

  it('is stable: equal ACLs give equal strings, whatever the property order they were built in', () => {
    const rebuilt: Acl = {
      grants: acl.grants.map((g) => ({ permission: g.permission, grantee: { ...g.grantee } })),
      owner: { displayName: OWNER.displayName, id: OWNER.id },
    };
    assert.equal(serializeAcl(rebuilt), serializeAcl(acl));
  });

  it('is compact', () => {
    const s = serializeAcl(cannedAcl('private', { owner: { id: OWNER.id }, bucketOwner: { id: OWNER.id }, forBucket: false }));
    assert.equal(s, `{"v":1,"o":["${OWNER.id}"],"g":[["FULL_CONTROL","u","${OWNER.id}"]]}`);
  });

  const corrupt: [string, string][] = [
    ['not JSON', '{'],
    ['not an object', '"x"'],
    ['null', 'null'],
    ['another version', '{"v":2,"o":["a"],"g":[]}'],
    ['no version', '{"o":["a"],"g":[]}'],
    ['owner missing', '{"v":1,"g":[]}'],
    ['owner not a list', '{"v":1,"o":"a","g":[]}'],
    ['owner too long', '{"v":1,"o":["a","b","c"],"g":[]}'],
    ['owner id not a string', '{"v":1,"o":[1],"g":[]}'],
    ['grants missing', '{"v":1,"o":["a"]}'],
    ['grant too short', '{"v":1,"o":["a"],"g":[["READ","u"]]}'],
    ['unknown permission', '{"v":1,"o":["a"],"g":[["READ_ALL","u","b"]]}'],
    ['unknown kind', '{"v":1,"o":["a"],"g":[["READ","x","b"]]}'],
    ['unknown group', '{"v":1,"o":["a"],"g":[["READ","g","http://acs.amazonaws.com/groups/global/Nobody"]]}'],
    ['group with a display name', `{"v":1,"o":["a"],"g":[["READ","g","${ALL_USERS}","x"]]}`],
    ['non-string element', '{"v":1,"o":["a"],"g":[["READ","u",5]]}'],
  ];
  for (const [name, s] of corrupt) {
    it(`refuses a damaged record: ${name}`, () => assert.throws(() => deserializeAcl(s), CorruptAclError));
  }
});
