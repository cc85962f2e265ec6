// ACLs as requests give them: grant headers, x-amz-acl, AccessControlPolicy documents, and their
// resolution against the user directory. Expected errors are AWS's, as recorded against AWS in
// LocalStack's tests/aws/services/s3/test_s3.snapshot.json (test_s3_bucket_acl_exceptions,
// test_s3_object_acl_exceptions), unless a comment says otherwise.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACL_XML_LIMITS,
  ALL_USERS,
  AUTHENTICATED_USERS,
  LOG_DELIVERY,
  aclFromHeaders,
  hasGrantHeaders,
  parseAclXml,
  parseGrantHeaders,
  putAclRequest,
  resolveAcl,
  type Acl,
  type AclOwner,
  type Grant,
  type GranteeResolver,
  type HeaderBag,
} from '../../src/authz/acl/index.js';
import { S3Error } from '../../src/s3/errors.js';
import { XmlReader, parseXmlBody } from '../../src/s3/xml.js';

const ID1 = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
const ID2 = '852b113e7a2f25102679df27bb0ae12b3f85be6f290b936c4393484be31bebcc';
const XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

interface Failure {
  code: string;
  message?: string;
  details?: Record<string, unknown>;
}

function failure(e: unknown): Failure {
  assert.ok(e instanceof S3Error, String(e));
  return { code: e.code, message: e.message, details: e.details };
}

function fails(fn: () => unknown, want: Failure): void {
  let got: Failure | undefined;
  try {
    fn();
  } catch (e) {
    got = failure(e);
  }
  assert.ok(got, 'expected an S3Error');
  assert.equal(got.code, want.code);
  if (want.message !== undefined) assert.equal(got.message, want.message);
  if (want.details !== undefined) assert.deepEqual(got.details, want.details);
}

async function rejects(p: Promise<unknown>, want: Failure): Promise<void> {
  let got: Failure | undefined;
  try {
    await p;
  } catch (e) {
    got = failure(e);
  }
  assert.ok(got, 'expected an S3Error');
  assert.equal(got.code, want.code);
  if (want.message !== undefined) assert.equal(got.message, want.message);
  if (want.details !== undefined) assert.deepEqual(got.details, want.details);
}

const cu = (id: string, permission: Grant['permission']): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const gr = (uri: typeof ALL_USERS | typeof AUTHENTICATED_USERS | typeof LOG_DELIVERY, permission: Grant['permission']): Grant => ({ grantee: { type: 'Group', uri }, permission });
const em = (email: string, permission: Grant['permission']): Grant => ({ grantee: { type: 'AmazonCustomerByEmail', email }, permission });

describe('parseGrantHeaders', () => {
  const ok: { name: string; headers: HeaderBag; want: Grant[] }[] = [
    // The forms of the PutBucketAcl reference: x-amz-grant-read: id="…", id="…"
    { name: 'one quoted id', headers: { 'x-amz-grant-read': `id="${ID1}"` }, want: [cu(ID1, 'READ')] },
    { name: 'several grantees, spaces after commas', headers: { 'x-amz-grant-write': `id="${ID1}", id="${ID2}"` }, want: [cu(ID1, 'WRITE'), cu(ID2, 'WRITE')] },
    {
      name: 'all three kinds',
      headers: { 'x-amz-grant-full-control': `emailAddress="xyz@amazon.com", uri="${ALL_USERS}",id="${ID1}"` },
      want: [em('xyz@amazon.com', 'FULL_CONTROL'), gr(ALL_USERS, 'FULL_CONTROL'), cu(ID1, 'FULL_CONTROL')],
    },
    { name: 'unquoted values', headers: { 'x-amz-grant-read-acp': `id=${ID1}, uri=${LOG_DELIVERY}` }, want: [cu(ID1, 'READ_ACP'), gr(LOG_DELIVERY, 'READ_ACP')] },
    { name: 'spaces around = and the item', headers: { 'x-amz-grant-write-acp': `  id = "${ID1}"  ` }, want: [cu(ID1, 'WRITE_ACP')] },
    { name: 'keys in any case', headers: { 'x-amz-grant-read': `ID="${ID1}", EmailAddress="a@b.c", URI="${AUTHENTICATED_USERS}"` }, want: [cu(ID1, 'READ'), em('a@b.c', 'READ'), gr(AUTHENTICATED_USERS, 'READ')] },
    { name: 'a comma inside quotes is part of the value', headers: { 'x-amz-grant-read': 'emailAddress="a,b@example.com"' }, want: [em('a,b@example.com', 'READ')] },
    { name: 'repeated header (node joins with ", ")', headers: { 'x-amz-grant-read': [`id="${ID1}"`, `id="${ID2}"`] }, want: [cu(ID1, 'READ'), cu(ID2, 'READ')] },
    {
      name: 'several headers, full control first',
      headers: { 'x-amz-grant-read': `uri="${ALL_USERS}"`, 'x-amz-grant-full-control': `id="${ID1}"`, 'x-amz-grant-write': `uri="${LOG_DELIVERY}"` },
      want: [cu(ID1, 'FULL_CONTROL'), gr(ALL_USERS, 'READ'), gr(LOG_DELIVERY, 'WRITE')],
    },
    // The ids are checked later, against the directory (resolveAcl).
    { name: 'an empty id is left to the directory', headers: { 'x-amz-grant-read': 'id=""' }, want: [cu('', 'READ')] },
  ];
  for (const t of ok) it(t.name, () => assert.deepEqual(parseGrantHeaders(t.headers), t.want));

  it('is undefined without grant headers, and ignores other headers', () => {
    assert.equal(parseGrantHeaders({}), undefined);
    assert.equal(parseGrantHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-everything': 'id="x"' }), undefined);
    assert.equal(hasGrantHeaders({ 'x-amz-acl': 'private' }), false);
    assert.equal(hasGrantHeaders({ 'x-amz-grant-read-acp': '' }), true);
  });

  it('ignores x-amz-grant-write where the operation has no such parameter', () => {
    const h = { 'x-amz-grant-write': `id="${ID1}"`, 'x-amz-grant-read': `id="${ID2}"` };
    assert.deepEqual(parseGrantHeaders(h, { write: false }), [cu(ID2, 'READ')]);
    assert.equal(parseGrantHeaders({ 'x-amz-grant-write': `id="${ID1}"` }, { write: false }), undefined);
    assert.equal(hasGrantHeaders({ 'x-amz-grant-write': `id="${ID1}"` }, { write: false }), false);
  });

  const bad: { name: string; headers: HeaderBag; want: Failure }[] = [
    {
      name: 'unknown key (AWS: put-bucket-grant-acl-fake-key)',
      headers: { 'x-amz-grant-write': 'fakekey="1234"' },
      want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-write', ArgumentValue: 'fakekey="1234"' } },
    },
    {
      name: 'unknown group (AWS: put-bucket-grant-acl-fake-uri)',
      headers: { 'x-amz-grant-write': 'uri="http://acs.amazonaws.com/groups/s3/FakeGroup"' },
      want: { code: 'InvalidArgument', message: 'Invalid group uri', details: { ArgumentName: 'uri', ArgumentValue: 'http://acs.amazonaws.com/groups/s3/FakeGroup' } },
    },
    {
      name: 'group URIs compare exactly',
      headers: { 'x-amz-grant-read': `uri="${ALL_USERS.replace('http:', 'https:')}"` },
      want: { code: 'InvalidArgument', message: 'Invalid group uri', details: { ArgumentName: 'uri', ArgumentValue: ALL_USERS.replace('http:', 'https:') } },
    },
    {
      name: 'unknown key among good ones: the bad item is named',
      headers: { 'x-amz-grant-read': `id="${ID1}", user="bob"` },
      want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-read', ArgumentValue: 'user="bob"' } },
    },
    { name: 'no "="', headers: { 'x-amz-grant-read': ID1 }, want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-read', ArgumentValue: ID1 } } },
    { name: 'empty value', headers: { 'x-amz-grant-read': '' }, want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-read', ArgumentValue: '' } } },
    { name: 'trailing comma', headers: { 'x-amz-grant-read': `id="${ID1}",` }, want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-read', ArgumentValue: '' } } },
    { name: 'unterminated quote', headers: { 'x-amz-grant-read': 'id="abc' }, want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-read', ArgumentValue: 'id="abc' } } },
    { name: 'quote inside a value', headers: { 'x-amz-grant-read': 'id=ab"c"' }, want: { code: 'InvalidArgument', message: 'Argument format not recognized', details: { ArgumentName: 'x-amz-grant-read', ArgumentValue: 'id=ab"c"' } } },
  ];
  for (const t of bad) it(`refuses: ${t.name}`, () => fails(() => parseGrantHeaders(t.headers), t.want));
});

describe('aclFromHeaders / putAclRequest', () => {
  it('reads a canned ACL', () => {
    assert.deepEqual(aclFromHeaders({ 'x-amz-acl': 'public-read' }), { kind: 'canned', canned: 'public-read' });
  });

  it('reads grant headers', () => {
    assert.deepEqual(aclFromHeaders({ 'x-amz-grant-read': `uri="${LOG_DELIVERY}"` }), { kind: 'grants', grants: [gr(LOG_DELIVERY, 'READ')] });
  });

  it('is undefined when the headers name no ACL', () => {
    assert.equal(aclFromHeaders({ 'content-type': 'text/plain' }), undefined);
  });

  it('refuses x-amz-acl with grant headers (AWS: put-bucket-two-type-acl)', () => {
    fails(() => aclFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': `uri="${LOG_DELIVERY}"` }), {
      code: 'InvalidRequest',
      message: 'Specifying both Canned ACLs and Header Grants is not allowed',
    });
  });

  it('allows x-amz-acl beside x-amz-grant-write where that header means nothing', () => {
    assert.deepEqual(aclFromHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-write': `id="${ID1}"` }, { write: false }), { kind: 'canned', canned: 'private' });
  });

  it('refuses an unknown canned ACL (AWS: put-object-canned-acl)', () => {
    fails(() => aclFromHeaders({ 'x-amz-acl': 'fake-acl' }), { code: 'InvalidArgument', message: '', details: { ArgumentName: 'x-amz-acl', ArgumentValue: 'fake-acl' } });
  });

  it('takes a document when no header names an ACL', () => {
    assert.deepEqual(putAclRequest({}, true), { kind: 'document' });
    assert.deepEqual(putAclRequest({ 'x-amz-acl': 'private' }, false), { kind: 'canned', canned: 'private' });
  });

  it('refuses headers with a document (AWS: put-bucket-two-type-acl-acp)', () => {
    fails(() => putAclRequest({ 'x-amz-acl': 'private' }, true), { code: 'UnexpectedContent', message: 'This request does not support content' });
    fails(() => putAclRequest({ 'x-amz-grant-read': `id="${ID1}"` }, true), { code: 'UnexpectedContent' });
  });

  it('refuses a request with neither (AWS: put-bucket-empty)', () => {
    fails(() => putAclRequest({}, false), { code: 'MissingSecurityHeader', message: 'Your request was missing a required header', details: { MissingHeaderName: 'x-amz-acl' } });
  });
});

function doc(xml: string) {
  return parseAclXml(parseXmlBody(xml, 'AccessControlPolicy', 'MalformedACLError', ACL_XML_LIMITS));
}

const policy = (owner: string, grants: string) => `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>${owner}</ID></Owner><AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
const grant = (type: string, inner: string, permission: string) => `<Grant><Grantee ${XSI} xsi:type="${type}">${inner}</Grantee><Permission>${permission}</Permission></Grant>`;

describe('parseAclXml', () => {
  it('reads the sample ACL of the S3 user guide', () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#sample-acl
    const sample = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner>
    <ID>Owner-canonical-user-ID</ID>
    <DisplayName>display-name</DisplayName>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>Owner-canonical-user-ID</ID>
        <DisplayName>display-name</DisplayName>
      </Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
    
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>user1-canonical-user-ID</ID>
        <DisplayName>display-name</DisplayName>
      </Grantee>
      <Permission>WRITE</Permission>
    </Grant>

    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">
        <ID>user2-canonical-user-ID</ID>
        <DisplayName>display-name</DisplayName>
      </Grantee>
      <Permission>READ</Permission>
    </Grant>

    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI> 
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">
        <URI>http://acs.amazonaws.com/groups/s3/LogDelivery</URI>
      </Grantee>
      <Permission>WRITE</Permission>
    </Grant>

  </AccessControlList>
</AccessControlPolicy>`;
    const dn = { displayName: 'display-name' };
    assert.deepEqual(doc(sample), {
      owner: { id: 'Owner-canonical-user-ID', ...dn },
      grants: [
        { grantee: { type: 'CanonicalUser', id: 'Owner-canonical-user-ID', ...dn }, permission: 'FULL_CONTROL' },
        { grantee: { type: 'CanonicalUser', id: 'user1-canonical-user-ID', ...dn }, permission: 'WRITE' },
        { grantee: { type: 'CanonicalUser', id: 'user2-canonical-user-ID', ...dn }, permission: 'READ' },
        gr(ALL_USERS, 'READ'),
        gr(LOG_DELIVERY, 'WRITE'),
      ],
    });
  });

  it('reads an email grantee, any namespace prefix for the type, and an empty list', () => {
    assert.deepEqual(doc(policy(ID1, grant('AmazonCustomerByEmail', '<EmailAddress>xyz@amazon.com</EmailAddress>', 'WRITE_ACP'))), { owner: { id: ID1 }, grants: [em('xyz@amazon.com', 'WRITE_ACP')] });
    const prefixed = policy(ID1, `<Grant><Grantee xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`);
    assert.deepEqual(doc(prefixed).grants, [gr(ALL_USERS, 'READ')]);
    // Revoking every grant is an empty list.
    assert.deepEqual(doc(policy(ID1, '')), { owner: { id: ID1 }, grants: [] });
    assert.deepEqual(doc(policy(ID1, '\n  ')), { owner: { id: ID1 }, grants: [] });
    assert.deepEqual(doc(policy(ID1, '').replace('<AccessControlList></AccessControlList>', '<AccessControlList/>')), { owner: { id: ID1 }, grants: [] });
  });

  it('reads exactly 100 grants and streams them in small chunks', () => {
    const xml = policy(ID1, grant('CanonicalUser', `<ID>${ID2}</ID>`, 'READ').repeat(100));
    const r = new XmlReader('AccessControlPolicy', ACL_XML_LIMITS);
    const bytes = Buffer.from(xml);
    for (let i = 0; i < bytes.length; i += 100) r.write(bytes.subarray(i, i + 100));
    assert.equal(parseAclXml(r.end()).grants.length, 100);
    assert.ok(bytes.length < ACL_XML_LIMITS.maxBytes);
  });

  const malformed: [string, string][] = [
    ['no Owner (AWS: put-bucket-acp-acl-1)', `<AccessControlPolicy><AccessControlList>${grant('Group', `<URI>${LOG_DELIVERY}</URI>`, 'WRITE')}</AccessControlList></AccessControlPolicy>`],
    ['unknown permission (AWS: put-bucket-acp-acl-2)', policy(ID1, grant('Group', `<URI>${LOG_DELIVERY}</URI>`, 'WRONG-PERMISSION'))],
    ['unknown grantee type (AWS: put-bucket-acp-acl-6)', policy(ID1, grant('BadType', `<ID>${ID1}</ID>`, 'READ'))],
    ['empty policy (AWS: put-bucket-empty-acp)', '<AccessControlPolicy/>'],
    ['no AccessControlList', `<AccessControlPolicy><Owner><ID>${ID1}</ID></Owner></AccessControlPolicy>`],
    ['two AccessControlLists', policy(ID1, '').replace('</AccessControlPolicy>', '<AccessControlList/></AccessControlPolicy>')],
    ['two Owners', policy(ID1, '').replace('<AccessControlList>', `<Owner><ID>${ID2}</ID></Owner><AccessControlList>`)],
    ['Owner without ID', policy(ID1, '').replace(`<ID>${ID1}</ID>`, '<DisplayName>x</DisplayName>')],
    ['Owner with an empty ID', policy('', '')],
    ['Owner as text', `<AccessControlPolicy><Owner>${ID1}</Owner><AccessControlList/></AccessControlPolicy>`],
    ['something else than Grant in the list', policy(ID1, `<Grants>${grant('Group', `<URI>${ALL_USERS}</URI>`, 'READ')}</Grants>`)],
    ['text in the list', policy(ID1, 'READ')],
    ['Grantee without xsi:type', policy(ID1, `<Grant><Grantee><ID>${ID2}</ID></Grantee><Permission>READ</Permission></Grant>`)],
    ["the user guide's typo xsi:type=\"Canonical User\"", policy(ID1, grant('Canonical User', `<ID>${ID2}</ID>`, 'READ'))],
    ['CanonicalUser without ID', policy(ID1, grant('CanonicalUser', '<DisplayName>x</DisplayName>', 'READ'))],
    ['Group without URI', policy(ID1, grant('Group', `<ID>${ID2}</ID>`, 'READ'))],
    ['email grantee without address', policy(ID1, grant('AmazonCustomerByEmail', '', 'READ'))],
    ['no Permission', policy(ID1, `<Grant><Grantee ${XSI} xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee></Grant>`)],
    ['two Permissions', policy(ID1, grant('Group', `<URI>${ALL_USERS}</URI>`, 'READ</Permission><Permission>WRITE'))],
    ['lower-case permission', policy(ID1, grant('Group', `<URI>${ALL_USERS}</URI>`, 'read'))],
    ['no Grantee', policy(ID1, '<Grant><Permission>READ</Permission></Grant>')],
    ['two Grantees', policy(ID1, `<Grant><Grantee ${XSI} xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Grantee ${XSI} xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>`)],
    ['an empty Grant', policy(ID1, '<Grant/>')],
    ['an ID with elements inside', policy(ID1, grant('CanonicalUser', `<ID><x>${ID2}</x></ID>`, 'READ'))],
    ['101 grants (AWS, quoted in Ceph a1b05dd)', policy(ID1, grant('CanonicalUser', `<ID>${ID2}</ID>`, 'READ').repeat(101))],
    ['another root', '<AccessControlList/>'],
    ['not well formed', policy(ID1, '<Grant>')],
  ];
  for (const [name, xml] of malformed) {
    it(`refuses as MalformedACLError: ${name}`, () => fails(() => doc(xml), { code: 'MalformedACLError' }));
  }

  it('refuses an unknown group as InvalidArgument (AWS: put-bucket-acp-acl-4)', () => {
    fails(() => doc(policy(ID1, grant('Group', '<URI>http://acs.amazonaws.com/groups/s3/FakeGroup</URI>', 'FULL_CONTROL'))), {
      code: 'InvalidArgument',
      message: 'Invalid group uri',
      details: { ArgumentName: 'Group/URI', ArgumentValue: 'http://acs.amazonaws.com/groups/s3/FakeGroup' },
    });
  });

  it('answers a malformed grant before an unknown group that precedes it', () => {
    const xml = policy(ID1, grant('Group', '<URI>http://example.com/g</URI>', 'READ') + grant('Group', `<URI>${ALL_USERS}</URI>`, 'NOPE'));
    fails(() => doc(xml), { code: 'MalformedACLError' });
  });

  it('is not fooled by a document read without attributes', () => {
    const xml = policy(ID1, grant('Group', `<URI>${ALL_USERS}</URI>`, 'READ'));
    fails(() => parseAclXml(parseXmlBody(xml, 'AccessControlPolicy', 'MalformedACLError')), { code: 'MalformedACLError' });
  });
});

describe('resolveAcl', () => {
  const users: Record<string, AclOwner> = { [ID1]: { id: ID1, displayName: 'alice' }, [ID2]: { id: ID2 } };
  const lookups: string[] = [];
  const resolver: GranteeResolver = {
    async userById(id) {
      lookups.push(id);
      return users[id];
    },
    async usersByEmail(email) {
      if (email.toLowerCase() === 'alice@example.com') return [users[ID1]!];
      if (email === 'shared@example.com') return [users[ID1]!, users[ID2]!];
      return [];
    },
  };
  const owner = { id: ID1, displayName: 'alice' };

  it('fills display names from the directory and turns email grantees into users', async () => {
    const requested: Acl = {
      owner: { id: ID1, displayName: 'whatever the client said' },
      grants: [
        { grantee: { type: 'CanonicalUser', id: ID1, displayName: 'mallory' }, permission: 'FULL_CONTROL' },
        em('Alice@Example.com', 'READ'),
        cu(ID2, 'WRITE'),
        gr(ALL_USERS, 'READ'),
      ],
    };
    const acl = await resolveAcl(requested, { resourceOwner: owner, resolver, from: 'document' });
    assert.deepEqual(acl, {
      owner,
      grants: [
        { grantee: { type: 'CanonicalUser', id: ID1, displayName: 'alice' }, permission: 'FULL_CONTROL' },
        { grantee: { type: 'CanonicalUser', id: ID1, displayName: 'alice' }, permission: 'READ' },
        cu(ID2, 'WRITE'),
        gr(ALL_USERS, 'READ'),
      ],
    });
  });

  it('looks each id up once', async () => {
    lookups.length = 0;
    await resolveAcl({ owner, grants: [cu(ID2, 'READ'), cu(ID2, 'WRITE'), cu(ID2, 'READ_ACP')] }, { resourceOwner: owner, resolver, from: 'headers' });
    assert.deepEqual(lookups, [ID2]);
  });

  it('refuses an unknown user, named as the request named it', async () => {
    // AWS: put-bucket-grant-acl-wrong-id (header) and put-bucket-acp-acl-5 (document).
    await rejects(resolveAcl({ owner, grants: [cu('wrong-id', 'READ')] }, { resourceOwner: owner, resolver, from: 'headers' }), {
      code: 'InvalidArgument',
      message: 'Invalid id',
      details: { ArgumentName: 'id', ArgumentValue: 'wrong-id' },
    });
    await rejects(resolveAcl({ owner, grants: [cu('wrong-id', 'READ')] }, { resourceOwner: owner, resolver, from: 'document' }), {
      code: 'InvalidArgument',
      message: 'Invalid id',
      details: { ArgumentName: 'CanonicalUser/ID', ArgumentValue: 'wrong-id' },
    });
  });

  it('refuses an unknown Owner as an invalid id (AWS: put-bucket-acp-acl-3)', async () => {
    await rejects(resolveAcl({ owner: { id: 'wrong-id' }, grants: [] }, { resourceOwner: owner, resolver, from: 'document' }), {
      code: 'InvalidArgument',
      message: 'Invalid id',
      details: { ArgumentName: 'CanonicalUser/ID', ArgumentValue: 'wrong-id' },
    });
  });

  it('refuses to give the resource to another owner', async () => {
    await rejects(resolveAcl({ owner: { id: ID2 }, grants: [cu(ID2, 'FULL_CONTROL')] }, { resourceOwner: owner, resolver, from: 'document' }), { code: 'AccessDenied' });
  });

  it('refuses an unknown or shared email address', async () => {
    await rejects(resolveAcl({ owner, grants: [em('nobody@example.com', 'READ')] }, { resourceOwner: owner, resolver, from: 'headers' }), { code: 'UnresolvableGrantByEmailAddress' });
    await rejects(resolveAcl({ owner, grants: [em('shared@example.com', 'READ')] }, { resourceOwner: owner, resolver, from: 'headers' }), { code: 'AmbiguousGrantByEmailAddress' });
    const noEmail: GranteeResolver = { userById: resolver.userById };
    await rejects(resolveAcl({ owner, grants: [em('alice@example.com', 'READ')] }, { resourceOwner: owner, resolver: noEmail, from: 'document' }), { code: 'UnresolvableGrantByEmailAddress' });
  });

  it('reports the first bad grantee', async () => {
    await rejects(resolveAcl({ owner, grants: [cu(ID2, 'READ'), cu('first', 'READ'), em('nobody@example.com', 'READ'), cu('second', 'READ')] }, { resourceOwner: owner, resolver, from: 'headers' }), {
      code: 'InvalidArgument',
      details: { ArgumentName: 'id', ArgumentValue: 'first' },
    });
  });

  it('refuses more than 100 grants, from headers too', async () => {
    const grants = Array.from({ length: 101 }, () => gr(ALL_USERS, 'READ'));
    await rejects(resolveAcl({ owner, grants }, { resourceOwner: owner, resolver, from: 'headers' }), { code: 'MalformedACLError' });
    assert.equal((await resolveAcl({ owner, grants: grants.slice(1) }, { resourceOwner: owner, resolver, from: 'headers' })).grants.length, 100);
  });

  it('takes a whole header ACL through to what is stored', async () => {
    const grants = parseGrantHeaders({ 'x-amz-grant-read': `id="${ID2}", emailAddress="alice@example.com"`, 'x-amz-grant-write': `uri="${LOG_DELIVERY}"` })!;
    const acl = await resolveAcl({ owner, grants }, { resourceOwner: owner, resolver, from: 'headers' });
    // Only the grants asked for: S3 adds none for the owner (AWS: get-bucket-grant-acl).
    assert.deepEqual(acl, { owner, grants: [cu(ID2, 'READ'), { grantee: { type: 'CanonicalUser', id: ID1, displayName: 'alice' }, permission: 'READ' }, gr(LOG_DELIVERY, 'WRITE')] });
  });
});
