// ACLs, Object Ownership and Block Public Access end to end: two accounts and anonymous callers,
// with the real SDK and raw HTTP, against a real server.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketOwnershipControlsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketAclCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  UploadPartCommand,
  type Grant,
  type S3Client,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../src/config.js';
import { ACCESS_KEY, errorCode, raw, s3error, startServer, uniqueBucket, type TestServer } from './helpers.js';

const OTHER = {
  canonical: 'c'.repeat(64),
  accountId: '333344445555',
  email: 'other@example.com',
  name: 'other-account',
  accessKeyId: 'ACLOTHERACCOUNTKEY01',
  secretAccessKey: 'acl-other-account-secret-00000000001',
};
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

function policy(...statements: object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Grants as [type, id-or-uri, permission] triples, for comparisons. */
function grants(list: Grant[] | undefined): [string, string, string][] {
  return (list ?? []).map((g) => [g.Grantee!.Type!, (g.Grantee!.ID ?? g.Grantee!.URI)!, g.Permission!]);
}

describe('ACLs, Object Ownership and Block Public Access', () => {
  let srv: TestServer;
  let other: S3Client;
  let owner: string;

  const anonGet = (path: string, query?: Record<string, string>) => raw(srv, { method: 'GET', path, sign: false, ...(query ? { query } : {}) });

  before(async () => {
    srv = await startServer();
    const meta = srv.trove.app.meta;
    await meta.putAccount({ id: OTHER.canonical, accountId: OTHER.accountId, displayName: OTHER.name, email: OTHER.email, createdAt: Date.now() });
    await meta.putAccessKey({ accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey, userId: OTHER.canonical, createdAt: Date.now() });
    other = srv.client({ credentials: { accessKeyId: OTHER.accessKeyId, secretAccessKey: OTHER.secretAccessKey } });
    owner = (await meta.getAccessKey(ACCESS_KEY))!.userId;
  });
  after(() => srv.stop());

  it('lets anyone read an object written with the public-read canned ACL, and no other', async () => {
    const b = uniqueBucket('acl-pub');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'public', Body: 'for everyone', ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'private', Body: 'for me' }));
    const anon = await anonGet(`/${b}/public`);
    assert.equal(anon.status, 200, anon.text);
    assert.equal(anon.text, 'for everyone');
    assert.equal((await anonGet(`/${b}/private`)).status, 403);
    // Without the right to list, a missing key is as forbidden as a private one.
    assert.equal((await anonGet(`/${b}/missing`)).status, 403);
    // READ on an object is not WRITE on it, nor READ_ACP.
    assert.equal((await raw(srv, { method: 'PUT', path: `/${b}/public`, sign: false, body: 'x' })).status, 403);
    assert.equal((await anonGet(`/${b}/public`, { acl: '' })).status, 403);
    const acl = await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'public' }));
    assert.equal(acl.Owner?.ID, owner);
    assert.deepEqual(grants(acl.Grants), [
      ['Group', ALL_USERS, 'READ'],
      ['CanonicalUser', owner, 'FULL_CONTROL'],
    ]);
    const priv = await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'private' }));
    assert.deepEqual(grants(priv.Grants), [['CanonicalUser', owner, 'FULL_CONTROL']]);
  });

  it('lets anyone list a public-read bucket, but not write to it', async () => {
    const b = uniqueBucket('acl-list');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    const list = await anonGet(`/${b}`, { 'list-type': '2' });
    assert.equal(list.status, 200, list.text);
    assert.match(list.text, /<Key>k<\/Key>/);
    const theirs = await other.send(new ListObjectsV2Command({ Bucket: b }));
    assert.deepEqual(theirs.Contents?.map((c) => c.Key), ['k']);
    // Listing is not reading the objects, nor writing; but whoever may list learns that a key is
    // missing (404, as S3 answers callers with s3:ListBucket).
    assert.equal((await anonGet(`/${b}/k`)).status, 403);
    const missing = await anonGet(`/${b}/missing`);
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing.text), 'NoSuchKey');
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: b, Key: 'missing' })))).name, 'NoSuchKey');
    assert.equal((await raw(srv, { method: 'PUT', path: `/${b}/new`, sign: false, body: 'x' })).status, 403);
    assert.equal((await s3error(other.send(new PutObjectCommand({ Bucket: b, Key: 'new', Body: 'x' })))).name, 'AccessDenied');
    const acl = await other.send(new GetBucketAclCommand({ Bucket: b })).catch((e: Error) => e);
    assert.ok(acl instanceof Error, 'READ does not include READ_ACP');
  });

  it('lets any signed caller read an authenticated-read object, not an anonymous one', async () => {
    const b = uniqueBucket('acl-auth');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'signed only', ACL: 'authenticated-read' }));
    const got = await other.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(await got.Body!.transformToString(), 'signed only');
    assert.equal((await anonGet(`/${b}/k`)).status, 403);
    const acl = await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(grants(acl.Grants)[0], ['Group', AUTHENTICATED_USERS, 'READ']);
  });

  it('grants another account by canonical id or email in grant headers; its writes are its own', async () => {
    const b = uniqueBucket('acl-grant');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, GrantWrite: `id="${OTHER.canonical}"`, GrantFullControl: `id=${owner}` }));
    const bucketAcl = await srv.s3.send(new GetBucketAclCommand({ Bucket: b }));
    assert.deepEqual(grants(bucketAcl.Grants), [
      ['CanonicalUser', owner, 'FULL_CONTROL'],
      ['CanonicalUser', OTHER.canonical, 'WRITE'],
    ]);
    assert.equal(bucketAcl.Grants?.[1]?.Grantee?.DisplayName, OTHER.name);

    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'to read', GrantRead: `emailAddress="${OTHER.email}"` }));
    const read = await other.send(new GetObjectCommand({ Bucket: b, Key: 'shared' }));
    assert.equal(await read.Body!.transformToString(), 'to read');
    const objectAcl = await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'shared' }));
    // Only the grants listed: S3 adds none for the owner, and the email became the account.
    assert.deepEqual(grants(objectAcl.Grants), [['CanonicalUser', OTHER.canonical, 'READ']]);

    // WRITE on the bucket: the other account writes, and owns what it wrote.
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'theirs', Body: 'mine' }));
    const listed = await srv.s3.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    const owners = Object.fromEntries((listed.Contents ?? []).map((c) => [c.Key, [c.Owner?.ID, c.Owner?.DisplayName]]));
    assert.deepEqual(owners.theirs, [OTHER.canonical, OTHER.name]);
    assert.deepEqual(owners.shared, [owner, 'root']);
    const versions = await srv.s3.send(new ListObjectVersionsCommand({ Bucket: b }));
    assert.equal(versions.Versions?.find((v) => v.Key === 'theirs')?.Owner?.ID, OTHER.canonical);
    const theirAcl = await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'theirs' }));
    assert.equal(theirAcl.Owner?.ID, OTHER.canonical);
    // The writer reads its own object through the object's ACL, not through the bucket's.
    assert.equal(await (await other.send(new GetObjectCommand({ Bucket: b, Key: 'theirs' }))).Body!.transformToString(), 'mine');
    // WRITE does not let it read what others wrote, or list.
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: b })))).name, 'AccessDenied');
    // Its object's ACL is its own: the bucket owner reads or changes it only where that ACL says
    // so (bucket-owner-read grants READ, not READ_ACP; bucket-owner-full-control grants both).
    assert.equal((await s3error(srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'theirs' })))).name, 'AccessDenied');
    assert.equal((await s3error(srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'theirs', ACL: 'public-read' })))).name, 'AccessDenied');
    await other.send(new PutObjectAclCommand({ Bucket: b, Key: 'theirs', ACL: 'bucket-owner-read' }));
    assert.equal((await s3error(srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'theirs' })))).name, 'AccessDenied');
    await other.send(new PutObjectAclCommand({ Bucket: b, Key: 'theirs', ACL: 'bucket-owner-full-control' }));
    assert.equal((await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'theirs' }))).Owner?.ID, OTHER.canonical);

    const unknown = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', GrantRead: `id="${'d'.repeat(64)}"` })));
    assert.equal(unknown.name, 'InvalidArgument');
    const noEmail = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', GrantRead: 'emailAddress="nobody@example.com"' })));
    assert.equal(noEmail.name, 'UnresolvableGrantByEmailAddress');
  });

  it('round-trips bucket ACLs through PutBucketAcl documents and headers', async () => {
    const b = uniqueBucket('acl-bucket');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: b })))).name, 'AccessDenied');
    await srv.s3.send(
      new PutBucketAclCommand({
        Bucket: b,
        AccessControlPolicy: {
          Owner: { ID: owner },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: owner }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: OTHER.canonical }, Permission: 'READ' },
            { Grantee: { Type: 'CanonicalUser', ID: OTHER.canonical }, Permission: 'READ_ACP' },
          ],
        },
      }),
    );
    const got = await other.send(new GetBucketAclCommand({ Bucket: b }));
    assert.equal(got.Owner?.ID, owner);
    assert.deepEqual(grants(got.Grants), [
      ['CanonicalUser', owner, 'FULL_CONTROL'],
      ['CanonicalUser', OTHER.canonical, 'READ'],
      ['CanonicalUser', OTHER.canonical, 'READ_ACP'],
    ]);
    await other.send(new ListObjectsV2Command({ Bucket: b }));
    // READ_ACP is not WRITE_ACP.
    assert.equal((await s3error(other.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })))).name, 'AccessDenied');

    await srv.s3.send(new PutBucketAclCommand({ Bucket: b, GrantWriteACP: `id=${OTHER.canonical}` }));
    assert.deepEqual(grants((await srv.s3.send(new GetBucketAclCommand({ Bucket: b }))).Grants), [['CanonicalUser', OTHER.canonical, 'WRITE_ACP']]);
    // WRITE_ACP lets the other account set the ACL; the bucket stays the owner's.
    await other.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    const after = await srv.s3.send(new GetBucketAclCommand({ Bucket: b }));
    assert.equal(after.Owner?.ID, owner);
    assert.deepEqual(grants(after.Grants), [
      ['Group', ALL_USERS, 'READ'],
      ['CanonicalUser', owner, 'FULL_CONTROL'],
    ]);
    // An ACL cannot give the bucket away.
    const steal = await s3error(other.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: { Owner: { ID: OTHER.canonical }, Grants: [] } })));
    assert.equal(steal.name, 'AccessDenied');
    const both = await raw(srv, { method: 'PUT', path: `/${b}`, query: { acl: '' }, headers: { 'x-amz-acl': 'private', 'x-amz-grant-read': `id=${owner}` } });
    assert.equal(errorCode(both.text), 'InvalidRequest');
    const neither = await raw(srv, { method: 'PUT', path: `/${b}`, query: { acl: '' } });
    assert.equal(errorCode(neither.text), 'MissingSecurityHeader');
  });

  it('round-trips object ACLs through PutObjectAcl documents and headers, leaving the object alone', async () => {
    const b = uniqueBucket('acl-object');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    const put = await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'content', ContentType: 'text/plain' }));
    const before = await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    await before.Body!.transformToString();
    await srv.s3.send(
      new PutObjectAclCommand({
        Bucket: b,
        Key: 'k',
        AccessControlPolicy: { Owner: { ID: owner }, Grants: [{ Grantee: { Type: 'Group', URI: AUTHENTICATED_USERS }, Permission: 'READ' }] },
      }),
    );
    assert.deepEqual(grants((await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }))).Grants), [['Group', AUTHENTICATED_USERS, 'READ']]);
    const read = await other.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    assert.equal(read.ETag, put.ETag);
    assert.equal(read.ContentType, 'text/plain');
    assert.equal(read.LastModified?.getTime(), before.LastModified?.getTime());
    assert.equal(await read.Body!.transformToString(), 'content');

    await srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', GrantReadACP: `id=${OTHER.canonical}`, GrantWriteACP: `id=${OTHER.canonical}` }));
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).name, 'AccessDenied');
    const seen = await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(grants(seen.Grants), [
      ['CanonicalUser', OTHER.canonical, 'READ_ACP'],
      ['CanonicalUser', OTHER.canonical, 'WRITE_ACP'],
    ]);
    await other.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'private' }));
    assert.deepEqual(grants((await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }))).Grants), [['CanonicalUser', owner, 'FULL_CONTROL']]);
    assert.equal((await s3error(other.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' })))).name, 'AccessDenied');
    const missing = await s3error(srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'nope', ACL: 'private' })));
    assert.equal(missing.name, 'NoSuchKey');
    const bad = await raw(srv, { method: 'PUT', path: `/${b}/k`, query: { acl: '' }, body: '<AccessControlPolicy><Owner><ID>x</ID></Owner></AccessControlPolicy>' });
    assert.equal(errorCode(bad.text), 'MalformedACLError');
  });

  it('keeps an ACL per object version', async () => {
    const b = uniqueBucket('acl-ver');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }))).VersionId!;
    const v2 = (await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }))).VersionId!;
    const put = await srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v1, ACL: 'public-read' }));
    assert.equal(put.$metadata.httpStatusCode, 200);
    const old = await anonGet(`/${b}/k`, { versionId: v1 });
    assert.equal(old.status, 200, old.text);
    assert.equal(old.text, 'one');
    assert.equal((await anonGet(`/${b}/k`)).status, 403);
    assert.equal((await anonGet(`/${b}/k`, { versionId: v2 })).status, 403);
    const acl1 = await raw(srv, { method: 'GET', path: `/${b}/k`, query: { acl: '', versionId: v1 } });
    assert.equal(acl1.headers['x-amz-version-id'], v1);
    assert.match(acl1.text, /AllUsers/);
    const latest = await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    assert.deepEqual(grants(latest.Grants), [['CanonicalUser', owner, 'FULL_CONTROL']]);
    // A new version starts private whatever the previous one had.
    await srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'three' }));
    assert.equal((await anonGet(`/${b}/k`)).status, 403);
    assert.equal((await anonGet(`/${b}/k`, { versionId: v2 })).status, 200);
  });

  it('lets an explicit Deny in the bucket policy beat an ACL grant', async () => {
    const b = uniqueBucket('acl-deny');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret/k', Body: 'v', ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'open/k', Body: 'v', ACL: 'public-read' }));
    assert.equal((await anonGet(`/${b}/secret/k`)).status, 200);
    await srv.s3.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: policy(
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/secret/*` },
          { Effect: 'Deny', Principal: { AWS: OTHER.accountId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}` },
        ),
      }),
    );
    assert.equal((await anonGet(`/${b}/secret/k`)).status, 403);
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: b, Key: 'secret/k' })))).name, 'AccessDenied');
    assert.equal((await anonGet(`/${b}/open/k`)).status, 200);
    assert.equal((await anonGet(`/${b}`)).status, 200);
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: b })))).name, 'AccessDenied');
  });

  it('gives a multipart upload its ACL at Complete, and a copy the ACL of its own request', async () => {
    const b = uniqueBucket('acl-mpu');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    const up = await srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'mp', ACL: 'public-read' }));
    const part = await srv.s3.send(new UploadPartCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: 'multipart body' }));
    assert.equal((await anonGet(`/${b}/mp`)).status, 403);
    await srv.s3.send(new CompleteMultipartUploadCommand({ Bucket: b, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    const mp = await anonGet(`/${b}/mp`);
    assert.equal(mp.status, 200);
    assert.equal(mp.text, 'multipart body');

    await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-private', CopySource: `${b}/mp` }));
    assert.equal((await anonGet(`/${b}/copy-private`)).status, 403, 'the source ACL is not copied');
    await srv.s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copy-public', CopySource: `${b}/mp`, ACL: 'public-read' }));
    assert.equal((await anonGet(`/${b}/copy-public`)).status, 200);
    // Another account may copy what an object ACL lets it read.
    const theirs = uniqueBucket('acl-theirs');
    await other.send(new CreateBucketCommand({ Bucket: theirs }));
    await other.send(new CopyObjectCommand({ Bucket: theirs, Key: 'c', CopySource: `${b}/mp` }));
    assert.equal((await s3error(other.send(new CopyObjectCommand({ Bucket: theirs, Key: 'c', CopySource: `${b}/copy-private` })))).name, 'AccessDenied');
  });

  it('disables ACLs under BucketOwnerEnforced: refused when set, ignored when present, the bucket owner owns all', async () => {
    const b = uniqueBucket('own-enf');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read-write' }));
    assert.equal((await s3error(srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })))).name, 'OwnershipControlsNotFoundError');
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'public', Body: 'v', ACL: 'public-read' }));
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'written-by-other', Body: 'v' }));
    assert.equal((await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'written-by-other' }))).Owner?.ID, OTHER.canonical);
    assert.equal((await anonGet(`/${b}/public`)).status, 200);
    const enforce = { Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] } };
    // The bucket ACL grants AllUsers: it must be made private first.
    assert.equal((await s3error(srv.s3.send(new PutBucketOwnershipControlsCommand(enforce)))).name, 'InvalidBucketAclWithObjectOwnership');
    await srv.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    await srv.s3.send(new PutBucketOwnershipControlsCommand(enforce));
    const got = await srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }));
    assert.equal(got.OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerEnforced');

    // The object's public grant no longer counts, and reads show the bucket owner's full control.
    assert.equal((await anonGet(`/${b}/public`)).status, 403);
    assert.deepEqual(grants((await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'public' }))).Grants), [['CanonicalUser', owner, 'FULL_CONTROL']]);
    for (const acl of ['public-read', 'private'] as const) {
      const e = await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', ACL: acl })));
      assert.equal(e.name, 'AccessControlListNotSupported', acl);
      assert.equal(e.$metadata.httpStatusCode, 400);
    }
    assert.equal((await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', GrantRead: `id=${OTHER.canonical}` })))).name, 'AccessControlListNotSupported');
    assert.equal((await s3error(srv.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' })))).name, 'AccessControlListNotSupported');
    assert.equal((await s3error(srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'public', ACL: 'private' })))).name, 'AccessControlListNotSupported');
    assert.equal((await s3error(srv.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'm', ACL: 'public-read' })))).name, 'AccessControlListNotSupported');
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'bofc', Body: 'v', ACL: 'bucket-owner-full-control' }));

    // Another account writing through a policy: the object is the bucket owner's.
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy({ Effect: 'Allow', Principal: { AWS: OTHER.accountId }, Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `arn:aws:s3:::${b}/*` }) }));
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'from-other', Body: 'v', ACL: 'bucket-owner-full-control' }));
    const listed = await srv.s3.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['bofc', 'from-other', 'public', 'written-by-other']);
    assert.ok(listed.Contents?.every((c) => c.Owner?.ID === owner));
    assert.equal((await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'from-other' }))).Owner?.ID, owner);
    assert.equal((await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'written-by-other' }))).Owner?.ID, owner);

    // Deleting the setting enables ACLs again: the grants kept meanwhile count again.
    assert.equal((await srv.s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3error(srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b })))).name, 'OwnershipControlsNotFoundError');
    assert.equal((await anonGet(`/${b}/public`)).status, 200);
  });

  it('gives the bucket owner what is written with bucket-owner-full-control under BucketOwnerPreferred', async () => {
    const b = uniqueBucket('own-pref');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ObjectOwnership: 'BucketOwnerPreferred', GrantWrite: `id=${OTHER.canonical}` }));
    assert.equal((await srv.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: b }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerPreferred');
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'given', Body: 'v', ACL: 'bucket-owner-full-control' }));
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'kept', Body: 'v' }));
    const given = await srv.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'given' }));
    assert.equal(given.Owner?.ID, owner);
    const kept = await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'kept' }));
    assert.equal(kept.Owner?.ID, OTHER.canonical);

    // Under ObjectWriter the same request leaves the writer the owner, with the bucket owner granted.
    await srv.s3.send(new PutBucketOwnershipControlsCommand({ Bucket: b, OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } }));
    await other.send(new PutObjectCommand({ Bucket: b, Key: 'writer', Body: 'v', ACL: 'bucket-owner-full-control' }));
    const writer = await other.send(new GetObjectAclCommand({ Bucket: b, Key: 'writer' }));
    assert.equal(writer.Owner?.ID, OTHER.canonical);
    assert.deepEqual(grants(writer.Grants), [
      ['CanonicalUser', OTHER.canonical, 'FULL_CONTROL'],
      ['CanonicalUser', owner, 'FULL_CONTROL'],
    ]);
  });

  it('BlockPublicAcls refuses public ACLs, on buckets and objects, canned or granted', async () => {
    const b = uniqueBucket('pab-block');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    assert.equal((await s3error(srv.s3.send(new GetPublicAccessBlockCommand({ Bucket: b })))).name, 'NoSuchPublicAccessBlockConfiguration');
    await srv.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    const conf = await srv.s3.send(new GetPublicAccessBlockCommand({ Bucket: b }));
    assert.deepEqual(conf.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false });
    for (const acl of ['public-read', 'public-read-write', 'authenticated-read'] as const) {
      assert.equal((await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', ACL: acl })))).name, 'AccessDenied', acl);
      assert.equal((await s3error(srv.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: acl })))).name, 'AccessDenied', acl);
    }
    assert.equal((await s3error(srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', GrantRead: `uri="${ALL_USERS}"` })))).name, 'AccessDenied');
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', ACL: 'private' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', GrantRead: `id=${OTHER.canonical}` }));
    assert.equal((await s3error(srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' })))).name, 'AccessDenied');
    assert.equal((await srv.s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3error(srv.s3.send(new GetPublicAccessBlockCommand({ Bucket: b })))).name, 'NoSuchPublicAccessBlockConfiguration');
    await srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' }));
  });

  it('IgnorePublicAcls makes public grants count for nothing, while it is on', async () => {
    const b = uniqueBucket('pab-ignore');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v', ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'granted', Body: 'v', GrantRead: `id=${OTHER.canonical}` }));
    assert.equal((await anonGet(`/${b}/k`)).status, 200);
    await other.send(new ListObjectsV2Command({ Bucket: b }));
    await srv.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    assert.equal((await anonGet(`/${b}/k`)).status, 403);
    assert.equal((await anonGet(`/${b}`)).status, 403);
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: b })))).name, 'AccessDenied');
    // Setting a public ACL is still allowed (that is BlockPublicAcls), and grants to an account still count.
    await srv.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' }));
    await other.send(new GetObjectCommand({ Bucket: b, Key: 'granted' }));
    await srv.s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    assert.equal((await anonGet(`/${b}/k`)).status, 200);
  });

  it('BlockPublicPolicy refuses a public bucket policy, and only a public one', async () => {
    const b = uniqueBucket('pab-policy');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: true } }));
    const open = policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    const e = await s3error(srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: open })));
    assert.equal(e.name, 'AccessDenied');
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy({ Effect: 'Allow', Principal: { AWS: OTHER.accountId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }) }));
    await srv.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicPolicy: false } }));
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: open }));
  });

  it('RestrictPublicBuckets limits a public policy to the bucket owner’s account', async () => {
    const b = uniqueBucket('pab-restrict');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'acl/open', Body: 'v', ACL: 'public-read' }));
    await srv.s3.send(new PutObjectCommand({ Bucket: b, Key: 'acl/denied', Body: 'v', ACL: 'public-read' }));
    await srv.s3.send(
      new PutBucketPolicyCommand({
        Bucket: b,
        Policy: policy(
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` },
          { Effect: 'Allow', Principal: { AWS: OTHER.accountId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}` },
          { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/acl/denied` },
        ),
      }),
    );
    assert.equal((await anonGet(`/${b}/k`)).status, 200);
    await other.send(new ListObjectsV2Command({ Bucket: b }));
    await srv.s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    assert.equal((await anonGet(`/${b}/k`)).status, 403);
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).name, 'AccessDenied');
    // Delegation to a named account inside a public policy is blocked too.
    assert.equal((await s3error(other.send(new ListObjectsV2Command({ Bucket: b })))).name, 'AccessDenied');
    assert.equal(await (await srv.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }))).Body!.transformToString(), 'v');
    // ACLs are not the policy: their grants still count, and the policy's Deny still applies.
    assert.equal((await anonGet(`/${b}/acl/open`)).status, 200);
    assert.equal((await anonGet(`/${b}/acl/denied`)).status, 403);
    // A policy that is not public keeps granting.
    await srv.s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policy({ Effect: 'Allow', Principal: { AWS: OTHER.accountId }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringLike: { 's3:prefix': 'acl/*' } } }) }));
    await other.send(new ListObjectsV2Command({ Bucket: b, Prefix: 'acl/' }));
    // Whoever may list a key learns it is missing; s3:prefix is the key then.
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: b, Key: 'acl/missing' })))).name, 'NoSuchKey');
    assert.equal((await s3error(other.send(new GetObjectCommand({ Bucket: b, Key: 'missing' })))).name, 'AccessDenied');
  });

  it('starts new buckets with AWS’s 2023 defaults under --bucket-defaults aws', async () => {
    assert.equal(loadConfig([]).bucketDefaults, 'compatible');
    assert.equal(loadConfig(['--bucket-defaults', 'aws']).bucketDefaults, 'aws');
    assert.equal(loadConfig([], { TROVE_BUCKET_DEFAULTS: 'aws' }).bucketDefaults, 'aws');
    assert.throws(() => loadConfig(['--bucket-defaults', 'minio']), /compatible or aws/);

    const aws = await startServer({ bucketDefaults: 'aws' });
    try {
      await aws.s3.send(new CreateBucketCommand({ Bucket: 'modern' }));
      assert.equal((await aws.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: 'modern' }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerEnforced');
      const pab = await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: 'modern' }));
      assert.deepEqual(pab.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
      assert.equal((await s3error(aws.s3.send(new PutObjectCommand({ Bucket: 'modern', Key: 'k', Body: 'v', ACL: 'public-read' })))).name, 'AccessControlListNotSupported');
      const open = policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::modern/*' });
      assert.equal((await s3error(aws.s3.send(new PutBucketPolicyCommand({ Bucket: 'modern', Policy: open })))).name, 'AccessDenied');
      assert.equal((await s3error(aws.s3.send(new CreateBucketCommand({ Bucket: 'public-one', ACL: 'public-read' })))).name, 'InvalidBucketAclWithObjectOwnership');
      const writer = await s3error(aws.s3.send(new CreateBucketCommand({ Bucket: 'public-two', ACL: 'public-read', ObjectOwnership: 'ObjectWriter' })));
      assert.equal(writer.name, 'InvalidBucketAclWithBlockPublicAccessError');
      // What AWS users do then: create, lift the block, set the ACL.
      await aws.s3.send(new CreateBucketCommand({ Bucket: 'public-three', ObjectOwnership: 'ObjectWriter' }));
      await aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'public-three' }));
      await aws.s3.send(new PutBucketAclCommand({ Bucket: 'public-three', ACL: 'public-read' }));
      assert.equal((await raw(aws, { method: 'GET', path: '/public-three', sign: false })).status, 200);
    } finally {
      await aws.stop();
    }
    // The default: what on-premise servers do.
    const b = uniqueBucket('compat');
    await srv.s3.send(new CreateBucketCommand({ Bucket: b, ACL: 'public-read' }));
    assert.equal((await s3error(srv.s3.send(new GetPublicAccessBlockCommand({ Bucket: b })))).name, 'NoSuchPublicAccessBlockConfiguration');
    assert.equal((await anonGet(`/${b}`)).status, 200);
  });
});
