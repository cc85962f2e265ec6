// The pure pieces of IAM: name, path and ARN rules with IAM's validation messages, the ids it
// mints, the per-account cache behind credentials and identity policies.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IAM_ACTIONS, findIamAction, isReadOnly } from '../../src/iam/api.js';
import { AccountCache } from '../../src/iam/cache.js';
import { IamError, iamErrorXml, toIamError } from '../../src/iam/errors.js';
import { IamParams } from '../../src/iam/request.js';
import { page } from '../../src/iam/shapes.js';
import { S3Error } from '../../src/s3/errors.js';
import { IamStoreError } from '../../src/store/meta/types.js';
import { newAccessKeyId, newSecretKey, uniqueId } from '../../src/iam/ids.js';
import { INT_RANGES, RULES, iamArn, intViolation, memberName, missingValue, parseIamArn, ruleViolation } from '../../src/iam/names.js';

describe('IAM names, paths and ARNs', () => {
  const ok = (param: keyof typeof RULES, v: string) => assert.equal(ruleViolation(param, v, RULES[param]), undefined, `${param}=${v}`);
  const bad = (param: keyof typeof RULES, v: string) => {
    const m = ruleViolation(param, v, RULES[param]);
    assert.ok(m, `${param}=${v} should be refused`);
    return m;
  };

  it('accepts user names of [\\w+=,.@-], 1 to 64 characters', () => {
    for (const v of ['alice', 'Bob_1', 'a+b=c,d.e@f-g', 'x'.repeat(64)]) ok('UserName', v);
    assert.equal(bad('UserName', 'a b'), "1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+");
    assert.equal(bad('UserName', 'x'.repeat(65)), `1 validation error detected: Value '${'x'.repeat(65)}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64`);
    for (const v of ['', 'a/b', 'é', 'a:b', 'a*']) bad('UserName', v);
    ok('GroupName', 'g'.repeat(128));
    bad('GroupName', 'g'.repeat(129));
    ok('PolicyName', 'p'.repeat(128));
    bad('RoleName', 'r'.repeat(65));
  });

  it('accepts paths "/" or "/…/" of printable ASCII', () => {
    for (const v of ['/', '/eng/', '/a/b/c/', '/x+y/']) ok('Path', v);
    for (const v of ['', 'eng/', '/eng', '//x', '/a b/', '/é/']) bad('Path', v);
    ok('PathPrefix', '/');
    ok('PathPrefix', '/eng');
    bad('PathPrefix', 'eng');
  });

  it('checks enums, version ids, documents, access key ids and integer ranges', () => {
    ok('Status', 'Inactive');
    assert.equal(bad('Status', 'Disabled'), "1 validation error detected: Value 'Disabled' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]");
    ok('VersionId', 'v1');
    ok('VersionId', 'v12');
    for (const v of ['v0', '1', 'V1', 'v01']) bad('VersionId', v);
    bad('PolicyDocument', '{"a":"\u0100"}');
    bad('AccessKeyId', 'SHORT');
    ok('AccessKeyId', 'TRABCDEFGHIJKLMNOPQR');
    assert.equal(intViolation('MaxItems', 0, INT_RANGES.MaxItems), "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1");
    assert.equal(intViolation('MaxItems', 1000, INT_RANGES.MaxItems), undefined);
    assert.ok(intViolation('MaxSessionDuration', 43201, INT_RANGES.MaxSessionDuration));
    assert.equal(missingValue('UserName'), "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null");
    assert.equal(memberName('AssumeRolePolicyDocument'), 'assumeRolePolicyDocument');
  });

  it('builds and parses ARNs with paths', () => {
    assert.equal(iamArn('123456789012', 'user', '/', 'alice'), 'arn:aws:iam::123456789012:user/alice');
    assert.equal(iamArn('123456789012', 'policy', '/team/a/', 'read'), 'arn:aws:iam::123456789012:policy/team/a/read');
    assert.deepEqual(parseIamArn('arn:aws:iam::123456789012:policy/team/a/read'), { accountId: '123456789012', kind: 'policy', path: '/team/a/', name: 'read' });
    assert.deepEqual(parseIamArn('arn:aws:iam::aws:policy/ReadOnlyAccess'), { accountId: 'aws', kind: 'policy', path: '/', name: 'ReadOnlyAccess' });
    for (const arn of ['arn:aws:iam::123456789012:root', 'arn:aws:s3:::bucket', 'arn:aws:iam::12345:user/x', 'arn:aws:iam::123456789012:user/', 'arn:aws:iam::123456789012:thing/x']) {
      assert.equal(parseIamArn(arn), undefined, arn);
    }
  });

  it('mints 21-character unique ids, 20-character key ids and 40-character secrets', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const id = uniqueId('AIDA');
      assert.match(id, /^AIDA[A-Z2-7]{17}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 200);
    assert.match(uniqueId('ANPA'), /^ANPA/);
    assert.match(newAccessKeyId(), /^TR[A-Z0-9]{18}$/);
    assert.equal(newSecretKey().length, 40);
  });
});

describe('AccountCache', () => {
  it('serves a value until its account changes, then loads again', async () => {
    const cache = new AccountCache<string>(60_000);
    let loads = 0;
    const load = async () => `v${++loads}`;
    assert.equal(await cache.get('k', load, () => 'A'), 'v1');
    assert.equal(await cache.get('k', load, () => 'A'), 'v1');
    cache.invalidate('B');
    assert.equal(await cache.get('k', load, () => 'A'), 'v1', 'another account changing leaves it');
    cache.invalidate('A');
    assert.equal(await cache.get('k', load, () => 'A'), 'v2');
    assert.equal(await cache.get('k', load, () => 'A'), 'v2');
  });

  it('never keeps a value whose load was running when its account changed', async () => {
    const cache = new AccountCache<string>(60_000);
    let release!: () => void;
    const slow = cache.get('k', () => new Promise<string>((r) => (release = () => r('stale'))), () => 'A');
    await new Promise((r) => setImmediate(r));
    cache.invalidate('A');
    release();
    assert.equal(await slow, 'stale');
    assert.equal(await cache.get('k', async () => 'fresh', () => 'A'), 'fresh');
  });

  it('forgets "not found" on any change (the change may have created it), and expires entries', async () => {
    const cache = new AccountCache<string | undefined>(60_000);
    assert.equal(await cache.get('k', async () => undefined, () => undefined), undefined);
    cache.invalidate('Z');
    assert.equal(await cache.get('k', async () => 'found', (v) => (v ? 'Z' : undefined)), 'found');
    const short = new AccountCache<number>(1);
    let n = 0;
    await short.get('k', async () => ++n, () => 'A');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(await short.get('k', async () => ++n, () => 'A'), 2);
  });
});

describe('the IAM action table', () => {
  const IMPLEMENTED = [
    'CreateUser', 'GetUser', 'UpdateUser', 'DeleteUser', 'ListUsers',
    'CreateAccessKey', 'UpdateAccessKey', 'DeleteAccessKey', 'ListAccessKeys', 'GetAccessKeyLastUsed',
    'CreateGroup', 'GetGroup', 'DeleteGroup', 'ListGroups', 'AddUserToGroup', 'RemoveUserFromGroup', 'ListGroupsForUser',
    'PutUserPolicy', 'GetUserPolicy', 'DeleteUserPolicy', 'ListUserPolicies',
    'PutGroupPolicy', 'GetGroupPolicy', 'DeleteGroupPolicy', 'ListGroupPolicies',
    'PutRolePolicy', 'GetRolePolicy', 'DeleteRolePolicy', 'ListRolePolicies',
    'CreatePolicy', 'GetPolicy', 'DeletePolicy', 'ListPolicies',
    'CreatePolicyVersion', 'GetPolicyVersion', 'DeletePolicyVersion', 'ListPolicyVersions', 'SetDefaultPolicyVersion',
    'AttachUserPolicy', 'DetachUserPolicy', 'ListAttachedUserPolicies',
    'AttachGroupPolicy', 'DetachGroupPolicy', 'ListAttachedGroupPolicies',
    'AttachRolePolicy', 'DetachRolePolicy', 'ListAttachedRolePolicies',
    'CreateRole', 'GetRole', 'UpdateRole', 'DeleteRole', 'ListRoles', 'UpdateAssumeRolePolicy',
    'CreateOpenIDConnectProvider', 'GetOpenIDConnectProvider', 'ListOpenIDConnectProviders', 'DeleteOpenIDConnectProvider',
    'AddClientIDToOpenIDConnectProvider', 'RemoveClientIDFromOpenIDConnectProvider', 'UpdateOpenIDConnectProviderThumbprint',
    'GetAccountSummary', 'UpdateGroup', 'UpdateRoleDescription',
  ];

  it('lists every action once; implemented ones have targets and a handler, the rest neither', () => {
    assert.equal(new Set(IAM_ACTIONS.map((a) => a.name)).size, IAM_ACTIONS.length);
    for (const name of IMPLEMENTED) {
      const a = findIamAction(name);
      assert.ok(a?.handler && a.targets, `${name} is implemented`);
    }
    const implemented = IAM_ACTIONS.filter((a) => a.handler).map((a) => a.name);
    assert.deepEqual(implemented.slice().sort(), IMPLEMENTED.slice().sort());
    for (const name of ['CreateLoginProfile', 'TagUser', 'UpdateLoginProfile', 'ListEntitiesForPolicy']) {
      const a = findIamAction(name);
      assert.ok(a && !a.handler && !a.targets, `${name} is known and not implemented`);
    }
    assert.equal(findIamAction('Frobnicate'), undefined);
    for (const a of IAM_ACTIONS) assert.match(a.name, /^[A-Z][A-Za-z0-9]+$/);
  });

  it('treats Get* and List* as reading, everything else as changing the account', () => {
    for (const name of ['GetUser', 'ListUsers', 'GetAccessKeyLastUsed', 'ListAttachedUserPolicies']) assert.equal(isReadOnly(name), true, name);
    for (const name of ['CreateUser', 'UpdateAccessKey', 'SetDefaultPolicyVersion', 'AddUserToGroup', 'RemoveUserFromGroup', 'UpdateAssumeRolePolicy']) assert.equal(isReadOnly(name), false, name);
  });
});

describe('IAM parameters, pages and errors', () => {
  const params = (o: Record<string, string>) => new IamParams(new Map(Object.entries(o)));
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof IamError);
      return `${e.code}: ${e.message}`;
    }
    assert.fail('expected an IamError');
  };

  it('reads parameters through their rules', () => {
    const p = params({ UserName: 'alice', Path: 'bad', MaxItems: '5', OnlyAttached: 'true', Bad: 'maybe', Big: '9999' });
    assert.equal(p.required('UserName'), 'alice');
    assert.equal(p.optional('PathPrefix'), undefined);
    assert.match(code(() => p.optional('Path')), /^ValidationError: 1 validation error detected: Value 'bad' at 'path'/);
    assert.equal(code(() => p.required('GroupName')), "ValidationError: 1 validation error detected: Value null at 'groupName' failed to satisfy constraint: Member must not be null");
    assert.deepEqual(p.page(), { after: undefined, maxItems: 5 });
    assert.deepEqual(params({}).page(), { after: undefined, maxItems: 100 });
    assert.equal(p.bool('OnlyAttached'), true);
    assert.match(code(() => p.bool('Bad')), /^ValidationError: .*Member must be a boolean/);
    assert.match(code(() => params({ MaxItems: 'ten' }).int('MaxItems')), /Member must be an integer/);
    assert.match(code(() => params({ MaxItems: '1001' }).int('MaxItems')), /less than or equal to 1000/);
  });

  it('pages one item beyond the page to know whether the listing is truncated', () => {
    assert.deepEqual(page(['a', 'b', 'c'], 2, (x) => x), { items: ['a', 'b'], IsTruncated: true, Marker: 'b' });
    assert.deepEqual(page(['a', 'b'], 2, (x) => x), { items: ['a', 'b'], IsTruncated: false, Marker: undefined });
  });

  it('rewords authentication and store failures as IAM answers them, in IAM’s error XML', () => {
    assert.deepEqual([toIamError(new S3Error('InvalidAccessKeyId')).code, toIamError(new S3Error('InvalidAccessKeyId')).status], ['InvalidClientTokenId', 403]);
    assert.equal(toIamError(new S3Error('SignatureDoesNotMatch')).code, 'SignatureDoesNotMatch');
    assert.equal(toIamError(new S3Error('AuthorizationHeaderMalformed', 'the region is wrong')).code, 'IncompleteSignature');
    assert.equal(toIamError(new S3Error('InternalError')).code, 'ServiceFailure');
    const conflict = toIamError(new IamStoreError('DeleteConflict', 'Cannot delete entity, must delete access keys first.'));
    assert.deepEqual([conflict.code, conflict.status, conflict.type], ['DeleteConflict', 409, 'Sender']);
    assert.equal(new IamError('LimitExceeded').status, 409);
    assert.equal(new IamError('NoSuchEntity').status, 404);
    assert.equal(new IamError('MalformedPolicyDocument').status, 400);
    assert.equal(
      iamErrorXml(new IamError('NoSuchEntity', 'The user with name <x> cannot be found.'), 'REQ1'),
      '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name &lt;x&gt; cannot be found.</Message></Error><RequestId>REQ1</RequestId></ErrorResponse>',
    );
  });
});
