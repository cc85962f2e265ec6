// The policy language end to end: documents refused with AWS's reasons, single-policy evaluation
// (request × policy → decision), AWS's combined decision across identity, resource, boundary and
// session policies, and S3's definition of a public bucket policy.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  POLICY_SIZE_LIMITS,
  coversBucket,
  PolicyError,
  decide,
  evaluatePolicy,
  isPublicPolicy,
  parsePolicy,
  policySize,
  principalKeys,
  statementApplies,
  type ActionCatalog,
  type DecisionInput,
  type ParseOptions,
  type Policy,
  type PolicyKind,
  type RequestContext,
  type RequestPrincipal,
} from '../../src/authz/policy/index.js';

const ACCT = '111122223333';
const OTHER = '444455556666';
const CANONICAL = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';

const user = (name: string, acct = ACCT): RequestPrincipal => ({
  kind: 'user', accountId: acct, arn: `arn:aws:iam::${acct}:user/${name}`, username: name, userId: `AIDA${name.toUpperCase()}`,
  ...(acct === ACCT ? { canonicalId: CANONICAL } : {}),
});
const session = (role: string, name: string, acct = ACCT): RequestPrincipal => ({
  kind: 'assumed-role', accountId: acct, arn: `arn:aws:sts::${acct}:assumed-role/${role}/${name}`, roleArn: `arn:aws:iam::${acct}:role/${role}`, userId: `AROA${role.toUpperCase()}:${name}`,
});
const root = (acct = ACCT): RequestPrincipal => ({ kind: 'account-root', accountId: acct, arn: `arn:aws:iam::${acct}:root` });
const anon: RequestPrincipal = { kind: 'anonymous' };
const service = (name: string): RequestPrincipal => ({ kind: 'service', service: name });

function req(principal: RequestPrincipal, action: string, resource: string, extra: Record<string, string | string[]> = {}, resourceAccount: string | undefined = ACCT): RequestContext {
  const keys = principalKeys(principal);
  for (const [k, v] of Object.entries(extra)) keys.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
  return resourceAccount === undefined ? { principal, action, resource, keys } : { principal, action, resource, resourceAccount, keys };
}

type Stmt = Record<string, unknown>;
const doc = (statements: Stmt[] | Stmt, version: string | null = '2012-10-17'): string =>
  JSON.stringify(version === null ? { Statement: statements } : { Version: version, Statement: statements });
const bucketPolicy = (...statements: Stmt[]): Policy => parsePolicy(doc(statements), 'resource', { bucket: 'b' });
const identity = (...statements: Stmt[]): Policy => parsePolicy(doc(statements), 'identity');
const allowAll = (resource = 'arn:aws:s3:::b/*', action: string | string[] = 's3:*'): Stmt => ({ Effect: 'Allow', Action: action, Resource: resource });
const obj = (key: string): string => `arn:aws:s3:::b/${key}`;

// ---------------------------------------------------------------------------------------------

describe('parsePolicy: normalisation', () => {
  it('single values become lists; actions are lower-cased; Version defaults to 2008-10-17', () => {
    const p = parsePolicy(doc({ Sid: 'One', Effect: 'Allow', Action: 'S3:GetObject', Resource: 'arn:aws:s3:::b/*' }, null), 'identity');
    assert.equal(p.version, '2008-10-17');
    assert.equal(p.statements.length, 1);
    const s = p.statements[0]!;
    assert.equal(s.sid, 'One');
    assert.deepEqual([...s.actions.exact], ['s3:getobject']);
    assert.deepEqual(s.actions.values, ['S3:GetObject']);
    assert.deepEqual(s.resources?.values, ['arn:aws:s3:::b/*']);
  });
  it('condition keys are lower-cased, values become strings', () => {
    const p = identity({ Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { Bool: { 'AWS:SecureTransport': true }, NumericLessThan: { 's3:max-keys': 10 } } });
    const c = p.statements[0]!.conditions;
    assert.deepEqual(c.map((x) => [x.key, x.values]), [['aws:securetransport', ['true']], ['s3:max-keys', ['10']]]);
  });
  it('keeps the text and its counted size', () => {
    const text = doc({ ...allowAll(), Principal: '*' });
    const p = parsePolicy(text, 'resource', { bucket: 'b' });
    assert.equal(p.text, text);
    assert.equal(p.size, Buffer.byteLength(text));
  });
});

describe('parsePolicy: refused documents', () => {
  const ok = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
  const idOk = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
  const cases: [string, PolicyKind, string, string, ParseOptions?][] = [
    ['not JSON', 'resource', '{"Version":', 'This policy contains invalid Json'],
    ['leading space (bucket policy)', 'resource', ` ${doc(ok)}`, "Policies must be valid JSON and the first byte must be '{'"],
    ['an array', 'identity', '[]', 'This policy contains invalid Json'],
    ['unknown top-level field', 'resource', JSON.stringify({ Version: '2012-10-17', Statement: [ok], Extra: 1 }), 'Unknown field Extra'],
    ['bad Version', 'resource', doc(ok, '2012-10-18'), 'The policy must contain a valid version string'],
    ['no Statement', 'resource', JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement'],
    ['empty Statement', 'resource', JSON.stringify({ Version: '2012-10-17', Statement: [] }), 'Could not parse the policy: Statement is empty!'],
    ['unknown statement field', 'resource', doc({ ...ok, Principals: '*' }), 'Unknown field Principals'],
    ['no Effect', 'resource', doc({ Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }), 'Missing required field Effect'],
    ['bad Effect', 'resource', doc({ ...ok, Effect: 'allow' }), 'Invalid effect: allow'],
    ['resource policy without Principal', 'resource', doc(idOk), 'Missing required field Principal'],
    ['trust policy without Principal', 'trust', doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'Missing required field Principal'],
    ['identity policy with Principal', 'identity', doc({ ...idOk, Principal: '*' }), 'Has prohibited field Principal'],
    ['session policy with NotPrincipal', 'session', doc({ ...idOk, NotPrincipal: '*' }), 'Has prohibited field NotPrincipal'],
    ['boundary with Principal', 'boundary', doc({ ...idOk, Principal: { AWS: ACCT } }), 'Has prohibited field Principal'],
    ['trust policy with NotPrincipal', 'trust', doc({ Effect: 'Deny', NotPrincipal: { AWS: ACCT }, Action: 'sts:AssumeRole' }), 'Has prohibited field NotPrincipal'],
    ['trust policy with Resource', 'trust', doc({ Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'sts:AssumeRole', Resource: '*' }), 'Has prohibited field Resource'],
    ['Principal and NotPrincipal', 'resource', doc({ ...ok, NotPrincipal: '*' }), 'A statement cannot contain both Principal and NotPrincipal'],
    ['principal string other than *', 'resource', doc({ ...ok, Principal: ACCT }), 'Invalid principal in policy'],
    ['empty principal object', 'resource', doc({ ...ok, Principal: {} }), 'Invalid principal in policy'],
    ['unknown principal type', 'resource', doc({ ...ok, Principal: { User: 'x' } }), 'Invalid principal in policy'],
    ['wildcard inside an ARN', 'resource', doc({ ...ok, Principal: { AWS: `arn:aws:iam::${ACCT}:user/*` } }), 'Invalid principal in policy'],
    ['11-digit account', 'resource', doc({ ...ok, Principal: { AWS: '12345678901' } }), 'Invalid principal in policy'],
    ['bad canonical user', 'resource', doc({ ...ok, Principal: { CanonicalUser: 'abc' } }), 'Invalid principal in policy'],
    ['empty principal list', 'resource', doc({ ...ok, Principal: { AWS: [] } }), 'Invalid principal in policy'],
    ['no Action (bucket policy)', 'resource', doc({ Effect: 'Allow', Principal: '*', Resource: 'arn:aws:s3:::b/*' }), 'Missing required field Action'],
    ['no Action (IAM)', 'identity', doc({ Effect: 'Allow', Resource: '*' }), 'Policy statement must contain actions.'],
    ['Action and NotAction', 'identity', doc({ ...idOk, NotAction: 's3:PutObject' }), 'A statement cannot contain both Action and NotAction'],
    ['action without vendor (bucket policy)', 'resource', doc({ ...ok, Action: 'GetObject' }), 'Policy has invalid action'],
    ['action without vendor (IAM)', 'identity', doc({ ...idOk, Action: 'GetObject' }), 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['non-S3 action in a bucket policy', 'resource', doc({ ...ok, Action: 'iam:GetUser' }), 'Policy has invalid action'],
    ['empty action list', 'resource', doc({ ...ok, Action: [] }), 'Policy has invalid action'],
    ['no Resource (bucket policy)', 'resource', doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }), 'Missing required field Resource'],
    ['no Resource (IAM)', 'identity', doc({ Effect: 'Allow', Action: 's3:GetObject' }), 'Policy statement must contain resources.'],
    ['Resource and NotResource', 'identity', doc({ ...idOk, NotResource: '*' }), 'A statement cannot contain both Resource and NotResource'],
    ['resource not an ARN (IAM)', 'identity', doc({ ...idOk, Resource: 'b/*' }), 'Resource b/* must be in ARN format or "*".'],
    ['wildcard in the service segment', 'identity', doc({ ...idOk, Resource: 'arn:aws:*:::b' }), 'Resource arn:aws:*:::b must be in ARN format or "*".'],
    ['resource in another bucket', 'resource', doc({ ...ok, Resource: 'arn:aws:s3:::other/*' }), 'Policy has invalid resource'],
    ['resource in a bucket with the same prefix', 'resource', doc({ ...ok, Resource: 'arn:aws:s3:::bb/*' }), 'Policy has invalid resource'],
    ['bucket wildcard naming other buckets only', 'resource', doc({ ...ok, Resource: 'arn:aws:s3:::c*' }), 'Policy has invalid resource'],
    ['S3 ARN with a region', 'resource', doc({ ...ok, Resource: 'arn:aws:s3:us-east-1::b/*' }), 'Policy has invalid resource'],
    ['Resource * in a bucket policy', 'resource', doc({ ...ok, Resource: '*' }), 'Policy has invalid resource'],
    ['NotResource outside the bucket', 'resource', doc({ Effect: 'Deny', Principal: '*', Action: 's3:*', NotResource: 'arn:aws:s3:::other/*' }), 'Policy has invalid resource'],
    ['unknown condition operator', 'resource', doc({ ...ok, Condition: { StringEqualz: { 'aws:username': 'x' } } }), 'Invalid Condition type : StringEqualz'],
    ['NullIfExists', 'identity', doc({ ...idOk, Condition: { NullIfExists: { 'aws:TokenIssueTime': 'true' } } }), 'Invalid Condition type : NullIfExists'],
    ['condition key without vendor (bucket policy)', 'resource', doc({ ...ok, Condition: { StringEquals: { username: 'x' } } }), 'Policy has an invalid condition key'],
    ['condition key without vendor (IAM)', 'identity', doc({ ...idOk, Condition: { StringEquals: { username: 'x' } } }), 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['bad CIDR', 'resource', doc({ ...ok, Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/33' } } }), 'Invalid IP address in Conditions'],
    ['aws:SourceIp under a string operator', 'resource', doc({ ...ok, Condition: { StringLike: { 'aws:SourceIp': '10.*' } } }), 'Invalid IP address in Conditions'],
    ['condition value of the wrong type', 'identity', doc({ ...idOk, Condition: { StringEquals: { 'aws:username': { a: 1 } } } }), 'Invalid value for condition key aws:username'],
    ['empty condition values', 'identity', doc({ ...idOk, Condition: { StringEquals: { 'aws:username': [] } } }), 'Condition key aws:username has no values'],
    ['IAM Sid not alphanumeric', 'identity', doc({ ...idOk, Sid: 'my sid' }), 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*'],
    ['IAM Sids not unique', 'identity', doc([{ ...idOk, Sid: 'A' }, { ...idOk, Sid: 'A' }]), 'Statement IDs (SID) in a single policy must be unique.'],
    ['IAM character set', 'identity', doc({ ...idOk, Sid: 'Ā' }), 'The policy document contains characters outside the range IAM allows (tab, line feed, carriage return, U+0020 to U+00FF)'],
  ];
  for (const [name, kind, text, message, opts] of cases) {
    it(`${name}: "${message}"`, () => {
      assert.throws(() => parsePolicy(text, kind, opts ?? (kind === 'resource' ? { bucket: 'b' } : {})), (e: unknown) => {
        assert.ok(e instanceof PolicyError);
        assert.equal(e.message, message);
        assert.equal(e.tooLarge, false);
        return true;
      });
    });
  }

  it('bucket-policy Sids may be any string and repeat', () => {
    parsePolicy(doc([{ ...ok, Sid: 'Public read 1' }, { ...ok, Sid: 'Public read 1' }]), 'resource', { bucket: 'b' });
  });
  it('accepts every principal form', () => {
    const forms: unknown[] = [
      '*', { AWS: '*' }, { AWS: ACCT }, { AWS: `arn:aws:iam::${ACCT}:root` }, { AWS: `arn:aws:iam::${ACCT}:user/path/to/bob` },
      { AWS: `arn:aws:iam::${ACCT}:role/admin` }, { AWS: `arn:aws:sts::${ACCT}:assumed-role/admin/session-1` },
      { AWS: `arn:aws:sts::${ACCT}:federated-user/bob` }, { AWS: [ACCT, OTHER] }, { CanonicalUser: CANONICAL },
      { Service: 'logging.s3.amazonaws.com' }, { Service: ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com'] },
      { Federated: 'cognito-identity.amazonaws.com' }, { Federated: `arn:aws:iam::${ACCT}:saml-provider/corp` },
      { AWS: [`arn:aws:iam::${ACCT}:root`, OTHER], CanonicalUser: CANONICAL },
    ];
    for (const principal of forms) parsePolicy(doc({ ...ok, Principal: principal }), 'resource', { bucket: 'b' });
  });
  it('accepts a trust policy', () => {
    const p = parsePolicy(doc({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }), 'trust');
    assert.equal(p.statements[0]!.resources, undefined);
  });
  it('accepts the bucket ARN itself and its objects', () => {
    parsePolicy(doc({ ...ok, Action: ['s3:ListBucket', 's3:GetObject'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*', 'arn:aws:s3:::b/a/b?c'] }), 'resource', { bucket: 'b' });
  });
  it('accepts wildcards that can name the bucket or its objects (as MinIO and AWS do)', () => {
    for (const r of ['arn:aws:s3:::*', 'arn:aws:s3:::*/*', 'arn:aws:s3:::b*', 'arn:aws:s3:::?', 'arn:aws:s3:::*b/x', 'arn:aws:s3:::b${aws:username}', 'arn:aws:s3:::${aws:username}/*']) {
      parsePolicy(doc({ ...ok, Action: 's3:*', Resource: r }), 'resource', { bucket: 'b' });
    }
    assert.equal(coversBucket('arn:aws:s3:::b*z', 'b'), true); // b/z
    assert.equal(coversBucket('arn:aws:s3:::bx', 'b'), false);
    assert.equal(coversBucket('arn:aws:s3:::b/', 'b'), true);
  });
  it('without a bucket, a resource policy takes any ARN and "*"', () => {
    parsePolicy(doc({ ...ok, Resource: ['*', 'arn:aws:sqs:us-east-2:123456789012:queue1'], Action: 'sqs:SendMessage' }), 'resource');
  });
});

describe('parsePolicy: size limits', () => {
  it('bucket policies: 20 KB of bytes', () => {
    assert.equal(POLICY_SIZE_LIMITS.resource, 20480);
    const filler = (n: number): string => doc({ Sid: 'x'.repeat(n), Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
    const base = filler(0).length;
    parsePolicy(filler(20480 - base), 'resource', { bucket: 'b' });
    assert.throws(() => parsePolicy(filler(20481 - base), 'resource', { bucket: 'b' }), (e: unknown) => e instanceof PolicyError && e.tooLarge);
  });
  it('IAM documents count characters other than white space', () => {
    const text = '{ "Version" : "2012-10-17" }';
    assert.equal(policySize(text, 'identity'), text.replace(/\s/g, '').length);
    const big = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'b'.repeat(6200)}` }] });
    assert.throws(() => parsePolicy(big, 'identity'), { message: 'Cannot exceed quota for PolicySize: 6144' });
    assert.throws(() => parsePolicy(doc({ Effect: 'Allow', Principal: { AWS: ACCT }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'x'.repeat(2100) } } }), 'trust'), { message: 'Cannot exceed quota for PolicySize: 2048' });
    parsePolicy(big, 'identity', { maxSize: POLICY_SIZE_LIMITS.roleInline });
  });
});

describe('parsePolicy: S3 action catalog checks', () => {
  const catalog: ActionCatalog = {
    service: 's3',
    actions: new Map([
      ['s3:getobject', { resources: ['object'], conditionKeys: ['s3:existingobjecttag/', 's3:versionid'] }],
      ['s3:putobject', { resources: ['object'], conditionKeys: ['s3:x-amz-acl', 's3:requestobjecttag/'] }],
      ['s3:listbucket', { resources: ['bucket'], conditionKeys: ['s3:prefix', 's3:max-keys'] }],
      ['s3:listallmybuckets', { resources: [], conditionKeys: [] }],
    ]),
    resourceType: (arn) => (/^arn:aws:s3:::[^/]+$/.test(arn) ? 'bucket' : /^arn:aws:s3:::[^/]+\/.*$/.test(arn) ? 'object' : undefined),
  };
  const parse = (s: Stmt): Policy => parsePolicy(doc({ Effect: 'Allow', Principal: '*', ...s }), 'resource', { bucket: 'b', catalog });
  it('accepts actions that apply to the resources, with keys they support', () => {
    parse({ Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::b/*' });
    parse({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': 'home/' } } });
    parse({ Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } });
    parse({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 's3:ExistingObjectTag/team': 'red', 'aws:username': 'bob' } } });
    parse({ NotAction: 's3:Nonsense', Resource: 'arn:aws:s3:::b/*' });
  });
  const refused: [string, Stmt, string][] = [
    ['an unknown action', { Action: 's3:GetObjectt', Resource: 'arn:aws:s3:::b/*' }, 'Policy has invalid action'],
    ['a wildcard matching no action', { Action: 's3:Frobnicate*', Resource: 'arn:aws:s3:::b/*' }, 'Policy has invalid action'],
    ['an object action on the bucket', { Action: 's3:GetObject', Resource: 'arn:aws:s3:::b' }, 'Action does not apply to any resource(s) in statement'],
    ['a bucket action on objects', { Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b/*' }, 'Action does not apply to any resource(s) in statement'],
    ['an unknown S3 condition key', { Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { StringEquals: { 's3:nonsense': 'x' } } }, 'Policy has an invalid condition key'],
    ['s3:prefix with GetObject', { Action: ['s3:ListBucket', 's3:GetObject'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], Condition: { StringLike: { 's3:prefix': 'x' } } }, 'Conditions do not apply to combination of actions and resources in statement'],
  ];
  for (const [name, s, message] of refused) it(`refuses ${name}: "${message}"`, () => assert.throws(() => parse(s), { message }));
});

// ---------------------------------------------------------------------------------------------

describe('evaluatePolicy: request × policy → decision', () => {
  const bob = user('bob');
  const rows: [string, Policy, RequestContext, 'Allow' | 'Deny' | undefined][] = [
    ['exact action and resource', identity(allowAll('arn:aws:s3:::b/k', 's3:GetObject')), req(bob, 's3:GetObject', obj('k')), 'Allow'],
    ['action case does not matter', identity(allowAll('arn:aws:s3:::b/k', 'S3:GETOBJECT')), req(bob, 's3:getObject', obj('k')), 'Allow'],
    ['action wildcard s3:Get*', identity(allowAll('arn:aws:s3:::b/*', 's3:Get*')), req(bob, 's3:GetObjectTagging', obj('k')), 'Allow'],
    ['action wildcard does not reach other verbs', identity(allowAll('arn:aws:s3:::b/*', 's3:Get*')), req(bob, 's3:PutObject', obj('k')), undefined],
    ['action ? wildcard', identity(allowAll('arn:aws:s3:::b/*', 's3:?etObject')), req(bob, 's3:GetObject', obj('k')), 'Allow'],
    ['"*" action', identity(allowAll('*', '*')), req(bob, 'iam:CreateUser', `arn:aws:iam::${ACCT}:user/x`), 'Allow'],
    ['other service', identity(allowAll('*', 's3:*')), req(bob, 'iam:CreateUser', `arn:aws:iam::${ACCT}:user/x`), undefined],
    ['resource is case-sensitive', identity(allowAll('arn:aws:s3:::b/Key')), req(bob, 's3:GetObject', obj('key')), undefined],
    ['resource wildcard in the key', identity(allowAll('arn:aws:s3:::b/*/test/*')), req(bob, 's3:GetObject', obj('1/2/test/3.jpg')), 'Allow'],
    ['bucket ARN is not its objects', identity(allowAll('arn:aws:s3:::b')), req(bob, 's3:GetObject', obj('k')), undefined],
    ['arn:aws:s3:::* covers ListAllMyBuckets (resource "*")', identity(allowAll('arn:aws:s3:::*', 's3:ListAllMyBuckets')), req(bob, 's3:ListAllMyBuckets', '*'), 'Allow'],
    ['a bucket ARN does not cover ListAllMyBuckets', identity(allowAll('arn:aws:s3:::b', 's3:ListAllMyBuckets')), req(bob, 's3:ListAllMyBuckets', '*'), undefined],
    ['Deny wins within a policy', identity(allowAll(), { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }), req(bob, 's3:DeleteObject', obj('k')), 'Deny'],
    ['the Carlos example: DenyS3Logs', identity(
      { Sid: 'AllowS3Self', Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'] },
      { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
    ), req(user('carlossalazar'), 's3:PutObject', 'arn:aws:s3:::carlossalazar-logs/f'), 'Deny'],
    ['the Carlos example: own bucket', identity(
      { Sid: 'AllowS3Self', Effect: 'Allow', Action: 's3:*', Resource: ['arn:aws:s3:::carlossalazar/*', 'arn:aws:s3:::carlossalazar'] },
      { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
    ), req(user('carlossalazar'), 's3:PutObject', 'arn:aws:s3:::carlossalazar/f'), 'Allow'],
    // NotAction / NotResource
    ['NotAction allows everything else', identity({ Effect: 'Allow', NotAction: 's3:DeleteObject', Resource: '*' }), req(bob, 's3:GetObject', obj('k')), 'Allow'],
    ['NotAction excludes its actions', identity({ Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' }), req(bob, 's3:DeleteObject', obj('k')), undefined],
    ['NotAction reaches other services', identity({ Effect: 'Allow', NotAction: 's3:*', Resource: '*' }), req(bob, 'iam:ListUsers', '*'), 'Allow'],
    ['NotResource allows elsewhere', identity({ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/secret/*' }), req(bob, 's3:GetObject', obj('public/x')), 'Allow'],
    ['NotResource excludes its resources', identity({ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/secret/*' }), req(bob, 's3:GetObject', obj('secret/x')), undefined],
    ['Deny with NotResource (deny everything except)', identity(allowAll('*'), { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] }), req(bob, 's3:GetObject', 'arn:aws:s3:::c/x'), 'Deny'],
    // variables (IAM User Guide, "Variables and tags")
    ['${aws:username} in Resource', identity(allowAll('arn:aws:s3:::b/home/${aws:username}/*')), req(bob, 's3:PutObject', obj('home/bob/f')), 'Allow'],
    ['${aws:username} for someone else', identity(allowAll('arn:aws:s3:::b/home/${aws:username}/*')), req(bob, 's3:PutObject', obj('home/alice/f')), undefined],
    ['${aws:username} absent (role session)', identity(allowAll('arn:aws:s3:::b/home/${aws:username}/*')), req(session('r', 's'), 's3:PutObject', obj('home/s/f')), undefined],
    ['default value when absent', identity(allowAll("arn:aws:s3:::b/home/${aws:username, 'anonymous'}/*")), req(session('r', 's'), 's3:PutObject', obj('home/anonymous/f')), 'Allow'],
    ['a Deny whose variable is absent matches nothing', identity(allowAll(), { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:username}/*' }), req(session('r', 's'), 's3:GetObject', obj('x/y')), 'Allow'],
    ['NotResource with an absent variable excludes nothing', identity({ Effect: 'Allow', Action: 's3:*', NotResource: 'arn:aws:s3:::b/${aws:username}/*' }), req(session('r', 's'), 's3:GetObject', obj('x/y')), 'Allow'],
    ['2008-10-17: ${aws:username} is literal', parsePolicy(doc(allowAll('arn:aws:s3:::b/home/${aws:username}/*'), '2008-10-17'), 'identity'), req(bob, 's3:PutObject', obj('home/bob/f')), undefined],
    ['2008-10-17: literal match', parsePolicy(doc(allowAll('arn:aws:s3:::b/home/${aws:username}/*'), '2008-10-17'), 'identity'), req(bob, 's3:PutObject', obj('home/${aws:username}/f')), 'Allow'],
    ['s3:prefix home directory (condition operators page)', identity({ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } } }), req(bob, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/bob/' }), 'Allow'],
    ['s3:prefix of another user', identity({ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b', Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } } }), req(bob, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:prefix': 'home/alice/' }), undefined],
    // conditions inside statements: keys AND-ed
    ['two keys: both hold', identity({ ...allowAll(), Condition: { StringEquals: { 'aws:PrincipalAccount': ACCT }, Bool: { 'aws:SecureTransport': 'true' } } }), req(bob, 's3:GetObject', obj('k'), { 'aws:SecureTransport': 'true' }), 'Allow'],
    ['two keys: one fails', identity({ ...allowAll(), Condition: { StringEquals: { 'aws:PrincipalAccount': ACCT }, Bool: { 'aws:SecureTransport': 'true' } } }), req(bob, 's3:GetObject', obj('k'), { 'aws:SecureTransport': 'false' }), undefined],
    ['deny without TLS', identity(allowAll(), { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }), req(bob, 's3:GetObject', obj('k'), { 'aws:SecureTransport': 'false' }), 'Deny'],
    ['deny outside an IP range', identity(allowAll(), { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } } }), req(bob, 's3:GetObject', obj('k'), { 'aws:SourceIp': '198.51.100.7' }), 'Deny'],
    ['inside the IP range', identity(allowAll(), { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '203.0.113.0/24'] } } }), req(bob, 's3:GetObject', obj('k'), { 'aws:SourceIp': '203.0.113.7' }), 'Allow'],
  ];
  for (const [name, policy, ctx, want] of rows) it(`${name} → ${want ?? 'no decision'}`, () => assert.equal(evaluatePolicy(policy, ctx), want));
});

describe('evaluatePolicy: principals in resource policies', () => {
  const grant = (principal: unknown): Policy => bucketPolicy({ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
  const get = (p: RequestPrincipal): RequestContext => req(p, 's3:GetObject', obj('k'));
  const rows: [string, unknown, RequestPrincipal, boolean][] = [
    ['"*" includes anonymous', '*', anon, true],
    ['{"AWS": "*"} includes anonymous', { AWS: '*' }, anon, true],
    ['"*" includes users of any account', '*', user('eve', OTHER), true],
    ['"*" includes services', '*', service('logging.s3.amazonaws.com'), true],
    ['account id covers its users', { AWS: ACCT }, user('bob'), true],
    ['account root ARN covers its users', { AWS: `arn:aws:iam::${ACCT}:root` }, user('bob'), true],
    ['account root ARN covers role sessions', { AWS: `arn:aws:iam::${ACCT}:root` }, session('r', 's'), true],
    ['account covers the root user', { AWS: ACCT }, root(), true],
    ['account does not cover other accounts', { AWS: ACCT }, user('eve', OTHER), false],
    ['account does not cover anonymous', { AWS: ACCT }, anon, false],
    ['user ARN: that user', { AWS: `arn:aws:iam::${ACCT}:user/bob` }, user('bob'), true],
    ['user ARN: not another', { AWS: `arn:aws:iam::${ACCT}:user/bob` }, user('alice'), false],
    ['user ARN is case-sensitive', { AWS: `arn:aws:iam::${ACCT}:user/Bob` }, user('bob'), false],
    ['role ARN covers its sessions', { AWS: `arn:aws:iam::${ACCT}:role/r` }, session('r', 's1'), true],
    ['role ARN does not cover other roles', { AWS: `arn:aws:iam::${ACCT}:role/r` }, session('q', 's1'), false],
    ['session ARN: that session', { AWS: `arn:aws:sts::${ACCT}:assumed-role/r/s1` }, session('r', 's1'), true],
    ['session ARN: not another session', { AWS: `arn:aws:sts::${ACCT}:assumed-role/r/s1` }, session('r', 's2'), false],
    ['CanonicalUser: its account', { CanonicalUser: CANONICAL }, user('bob'), true],
    ['CanonicalUser: not other accounts', { CanonicalUser: CANONICAL }, user('eve', OTHER), false],
    ['Service: that service', { Service: 'logging.s3.amazonaws.com' }, service('logging.s3.amazonaws.com'), true],
    ['Service: not a user', { Service: 'logging.s3.amazonaws.com' }, user('bob'), false],
    ['list: any of them', { AWS: [OTHER, `arn:aws:iam::${ACCT}:user/bob`] }, user('bob'), true],
  ];
  for (const [name, principal, who, want] of rows) it(`${name} → ${want}`, () => assert.equal(evaluatePolicy(grant(principal), get(who)), want ? 'Allow' : undefined));

  // NotPrincipal with Deny (reference_policies_elements_notprincipal examples).
  const denyAllBut = (principals: string[]): Policy => bucketPolicy({ Effect: 'Deny', NotPrincipal: { AWS: principals }, Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] });
  const notRows: [string, string[], RequestPrincipal, 'Deny' | undefined][] = [
    ['Bob and his account listed: Bob is spared', [`arn:aws:iam::${OTHER}:user/Bob`, `arn:aws:iam::${OTHER}:root`], user('Bob', OTHER), undefined],
    ['Bob and his account listed: others are denied', [`arn:aws:iam::${OTHER}:user/Bob`, `arn:aws:iam::${OTHER}:root`], user('alice', OTHER), 'Deny'],
    ['only Bob listed: his account is denied, so is he', [`arn:aws:iam::${OTHER}:user/Bob`], user('Bob', OTHER), 'Deny'],
    ['session, role and account listed: session spared', [`arn:aws:sts::${OTHER}:assumed-role/ro/app`, `arn:aws:iam::${OTHER}:role/ro`, `arn:aws:iam::${OTHER}:root`], session('ro', 'app', OTHER), undefined],
    ['session and account without the role: denied', [`arn:aws:sts::${OTHER}:assumed-role/ro/app`, `arn:aws:iam::${OTHER}:root`], session('ro', 'app', OTHER), 'Deny'],
    ['anonymous is always denied by NotPrincipal', [`arn:aws:iam::${OTHER}:root`], anon, 'Deny'],
    ['account listed: its root is spared', [`arn:aws:iam::${OTHER}:root`], root(OTHER), undefined],
  ];
  for (const [name, principals, who, want] of notRows) it(`NotPrincipal: ${name}`, () => assert.equal(evaluatePolicy(denyAllBut(principals), get(who)), want));

  it('a trust policy names who may assume the role', () => {
    const trust = parsePolicy(doc([
      { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'secret' } } },
      { Effect: 'Allow', Principal: { Federated: 'accounts.google.com' }, Action: 'sts:AssumeRoleWithWebIdentity' },
    ]), 'trust');
    const assume = (p: RequestPrincipal, action: string, extra: Record<string, string> = {}): RequestContext => req(p, action, `arn:aws:iam::${ACCT}:role/r`, extra);
    assert.equal(evaluatePolicy(trust, assume(user('eve', OTHER), 'sts:AssumeRole', { 'sts:ExternalId': 'secret' })), 'Allow');
    assert.equal(evaluatePolicy(trust, assume(user('eve', OTHER), 'sts:AssumeRole')), undefined);
    assert.equal(evaluatePolicy(trust, assume({ kind: 'federated', provider: 'accounts.google.com' }, 'sts:AssumeRoleWithWebIdentity')), 'Allow');
    assert.equal(evaluatePolicy(trust, assume({ kind: 'federated', provider: 'graph.facebook.com' }, 'sts:AssumeRoleWithWebIdentity')), undefined);
  });

  it('statementApplies tells which statement matched', () => {
    const p = bucketPolicy({ Sid: 'A', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }, { Sid: 'B', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' });
    const ctx = get(anon);
    assert.deepEqual(p.statements.map((s) => statementApplies(s, ctx)), [true, false]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('decide: AWS policy evaluation logic', () => {
  const bob = user('bob');
  const eve = user('eve', OTHER);
  const roleSession = session('r', 's');
  const get = (p: RequestPrincipal, extra: Record<string, string> = {}): RequestContext => req(p, 's3:GetObject', obj('k'), extra);
  const idAllow = identity(allowAll('arn:aws:s3:::b/*', 's3:GetObject'));
  const idDeny = identity({ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' });
  const idOther = identity(allowAll('arn:aws:s3:::other/*', 's3:GetObject'));
  const rpTo = (principal: unknown, effect: 'Allow' | 'Deny' = 'Allow'): Policy => bucketPolicy({ Effect: effect, Principal: principal, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' });
  const boundaryOf = (action: string): Policy => parsePolicy(doc(allowAll('*', action)), 'boundary');
  const sessionOf = (action: string): Policy => parsePolicy(doc(allowAll('*', action)), 'session');
  const bobArn = { AWS: bob.arn };
  const roleArn = { AWS: `arn:aws:iam::${ACCT}:role/r` };
  const sessionArn = { AWS: roleSession.arn };

  type Row = [string, Omit<DecisionInput, 'request'> & { request: RequestContext }, 'Allow' | 'ExplicitDeny' | 'ImplicitDeny', string?];
  const rows: Row[] = [
    // same account (IAM User Guide, "Policy evaluation logic": either side suffices)
    ['no policies at all', { request: get(bob) }, 'ImplicitDeny'],
    ['identity allow alone', { request: get(bob), identityPolicies: [idAllow] }, 'Allow', 'identity'],
    ['identity allow in the second policy', { request: get(bob), identityPolicies: [idOther, idAllow] }, 'Allow', 'identity'],
    ['resource policy naming the user alone', { request: get(bob), resourcePolicy: rpTo(bobArn) }, 'Allow', 'resource'],
    ['resource policy "*" alone (same account needs nothing else)', { request: get(bob), resourcePolicy: rpTo('*') }, 'Allow', 'resource'],
    ['resource policy naming the account alone: delegation, not enough', { request: get(bob), resourcePolicy: rpTo({ AWS: ACCT }) }, 'ImplicitDeny'],
    ['resource policy naming the account plus identity allow', { request: get(bob), resourcePolicy: rpTo({ AWS: ACCT }), identityPolicies: [idAllow] }, 'Allow', 'identity'],
    ['resource policy naming the canonical user alone', { request: get(bob), resourcePolicy: rpTo({ CanonicalUser: CANONICAL }) }, 'ImplicitDeny'],
    ['ACL alone for a same-account user: account-level grant', { request: get(bob), aclAllows: true }, 'ImplicitDeny'],
    // explicit deny anywhere
    ['identity deny beats resource allow', { request: get(bob), identityPolicies: [idDeny], resourcePolicy: rpTo(bobArn) }, 'ExplicitDeny', 'identity'],
    ['resource deny beats identity allow', { request: get(bob), identityPolicies: [idAllow], resourcePolicy: rpTo('*', 'Deny') }, 'ExplicitDeny', 'resource'],
    ['resource deny naming the account covers its users', { request: get(bob), identityPolicies: [idAllow], resourcePolicy: rpTo({ AWS: ACCT }, 'Deny') }, 'ExplicitDeny', 'resource'],
    ['resource deny beats the ACL', { request: get(anon), resourcePolicy: rpTo('*', 'Deny'), aclAllows: true }, 'ExplicitDeny', 'resource'],
    ['boundary deny', { request: get(bob), identityPolicies: [idAllow], permissionsBoundary: parsePolicy(doc([allowAll('*'), { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }]), 'boundary') }, 'ExplicitDeny', 'boundary'],
    ['session policy deny', { request: get(roleSession), identityPolicies: [idAllow], sessionPolicies: [parsePolicy(doc([allowAll('*'), { Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }]), 'session')] }, 'ExplicitDeny', 'session'],
    ['deny beats the resource policy naming the user directly', { request: get(bob), resourcePolicy: bucketPolicy({ Effect: 'Allow', Principal: bobArn, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }, { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }) }, 'ExplicitDeny', 'resource'],
    // permissions boundaries (intersection with the identity allow)
    ['boundary allows too', { request: get(bob), identityPolicies: [idAllow], permissionsBoundary: boundaryOf('s3:*') }, 'Allow', 'identity'],
    ['boundary does not allow', { request: get(bob), identityPolicies: [idAllow], permissionsBoundary: boundaryOf('s3:PutObject') }, 'ImplicitDeny', 'boundary'],
    ['boundary alone grants nothing', { request: get(bob), permissionsBoundary: boundaryOf('s3:*') }, 'ImplicitDeny'],
    ['boundary does not limit a resource policy naming the user', { request: get(bob), resourcePolicy: rpTo(bobArn), permissionsBoundary: boundaryOf('s3:PutObject') }, 'Allow', 'resource'],
    // session policies (intersection for role sessions)
    ['role session: identity allow', { request: get(roleSession), identityPolicies: [idAllow] }, 'Allow', 'identity'],
    ['role session: session policy allows too', { request: get(roleSession), identityPolicies: [idAllow], sessionPolicies: [sessionOf('s3:Get*')] }, 'Allow', 'identity'],
    ['role session: session policy does not allow', { request: get(roleSession), identityPolicies: [idAllow], sessionPolicies: [sessionOf('s3:PutObject')] }, 'ImplicitDeny', 'session'],
    ['role session: one of several session policies allows', { request: get(roleSession), identityPolicies: [idAllow], sessionPolicies: [sessionOf('s3:PutObject'), sessionOf('s3:GetObject')] }, 'Allow', 'identity'],
    ['role session: session policy alone grants nothing', { request: get(roleSession), sessionPolicies: [sessionOf('s3:*')] }, 'ImplicitDeny'],
    ['resource policy naming the session: not limited by the session policy', { request: get(roleSession), resourcePolicy: rpTo(sessionArn), sessionPolicies: [sessionOf('s3:PutObject')] }, 'Allow', 'resource'],
    ['resource policy naming the role: needs no identity allow', { request: get(roleSession), resourcePolicy: rpTo(roleArn) }, 'Allow', 'resource'],
    ['resource policy naming the role: limited by the session policy', { request: get(roleSession), resourcePolicy: rpTo(roleArn), sessionPolicies: [sessionOf('s3:PutObject')] }, 'ImplicitDeny', 'session'],
    ['resource policy naming the role: limited by the boundary', { request: get(roleSession), resourcePolicy: rpTo(roleArn), permissionsBoundary: boundaryOf('s3:PutObject') }, 'ImplicitDeny', 'boundary'],
    ['resource policy naming the role: boundary and session allow', { request: get(roleSession), resourcePolicy: rpTo(roleArn), permissionsBoundary: boundaryOf('s3:*'), sessionPolicies: [sessionOf('s3:*')] }, 'Allow', 'resource'],
    // cross-account: both sides
    ['cross-account: identity allow only', { request: get(eve), identityPolicies: [idAllow] }, 'ImplicitDeny', 'resource'],
    ['cross-account: resource policy naming the user only', { request: get(eve), resourcePolicy: rpTo({ AWS: eve.arn }) }, 'ImplicitDeny', 'identity'],
    ['cross-account: "*" without identity allow', { request: get(eve), resourcePolicy: rpTo('*') }, 'ImplicitDeny', 'identity'],
    ['cross-account: both, resource naming the user', { request: get(eve), identityPolicies: [idAllow], resourcePolicy: rpTo({ AWS: eve.arn }) }, 'Allow', 'resource'],
    ['cross-account: both, resource naming the account', { request: get(eve), identityPolicies: [idAllow], resourcePolicy: rpTo({ AWS: OTHER }) }, 'Allow', 'resource'],
    ['cross-account: both, resource "*"', { request: get(eve), identityPolicies: [idAllow], resourcePolicy: rpTo('*') }, 'Allow', 'resource'],
    ['cross-account: identity allow and the ACL', { request: get(eve), identityPolicies: [idAllow], aclAllows: true }, 'Allow', 'acl'],
    ['cross-account: resource policy names another account', { request: get(eve), identityPolicies: [idAllow], resourcePolicy: rpTo({ AWS: '999999999999' }) }, 'ImplicitDeny', 'resource'],
    ['cross-account: boundary still caps', { request: get(eve), identityPolicies: [idAllow], resourcePolicy: rpTo('*'), permissionsBoundary: boundaryOf('s3:PutObject') }, 'ImplicitDeny', 'boundary'],
    ['cross-account role session: session ARN named, identity allows', { request: get(session('r', 's', OTHER)), identityPolicies: [idAllow], resourcePolicy: rpTo({ AWS: `arn:aws:sts::${OTHER}:assumed-role/r/s` }) }, 'Allow', 'resource'],
    ['cross-account role session: named but no identity allow', { request: get(session('r', 's', OTHER)), resourcePolicy: rpTo({ AWS: `arn:aws:sts::${OTHER}:assumed-role/r/s` }) }, 'ImplicitDeny', 'identity'],
    // root users
    ['own root: allowed without policies', { request: get(root()) }, 'Allow', 'root'],
    ['own root: the bucket policy can deny it', { request: get(root()), resourcePolicy: rpTo('*', 'Deny') }, 'ExplicitDeny', 'resource'],
    ['other root: needs the resource side', { request: get(root(OTHER)) }, 'ImplicitDeny'],
    ['other root: resource policy names its account', { request: get(root(OTHER)), resourcePolicy: rpTo({ AWS: OTHER }) }, 'Allow', 'resource'],
    ['other root: ACL', { request: get(root(OTHER)), aclAllows: true }, 'Allow', 'acl'],
    // anonymous and services
    ['anonymous: nothing', { request: get(anon) }, 'ImplicitDeny'],
    ['anonymous: public bucket policy', { request: get(anon), resourcePolicy: rpTo('*') }, 'Allow', 'resource'],
    ['anonymous: policy names an account', { request: get(anon), resourcePolicy: rpTo({ AWS: ACCT }) }, 'ImplicitDeny'],
    ['anonymous: public ACL', { request: get(anon), aclAllows: true }, 'Allow', 'acl'],
    ['anonymous: identity policies are never its own', { request: get(anon), identityPolicies: [idAllow] }, 'ImplicitDeny'],
    ['anonymous: public policy with an IP condition, outside', { request: get(anon, { 'aws:SourceIp': '198.51.100.1' }), resourcePolicy: bucketPolicy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }) }, 'ImplicitDeny'],
    ['anonymous: public policy with an IP condition, inside', { request: get(anon, { 'aws:SourceIp': '203.0.113.1' }), resourcePolicy: bucketPolicy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }) }, 'Allow', 'resource'],
    ['service principal named', { request: get(service('logging.s3.amazonaws.com')), resourcePolicy: rpTo({ Service: 'logging.s3.amazonaws.com' }) }, 'Allow', 'resource'],
    ['service principal not named', { request: get(service('logging.s3.amazonaws.com')), resourcePolicy: rpTo({ AWS: ACCT }) }, 'ImplicitDeny'],
  ];
  for (const [name, input, want, source] of rows) {
    it(`${name} → ${want}${source ? ` (${source})` : ''}`, () => {
      const d = decide(input);
      assert.equal(d.decision, want, d.reason);
      if (source) assert.equal(d.source, source, d.reason);
      assert.ok(d.reason.length > 0);
    });
  }

  it('names the deciding statement', () => {
    const d = decide({ request: get(bob), resourcePolicy: bucketPolicy({ Sid: 'DenyGet', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }) });
    assert.equal(d.sid, 'DenyGet');
    assert.equal(d.statement, 0);
    assert.match(d.reason, /DenyGet/);
  });

  describe("the bucket owner's root can always manage the bucket policy (no lock-out)", () => {
    const lockout = bucketPolicy({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] });
    for (const action of ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy']) {
      it(`${action}: owner root allowed despite the Deny`, () => {
        const d = decide({ request: req(root(), action, 'arn:aws:s3:::b'), resourcePolicy: lockout, ownerRootOverride: true });
        assert.equal(d.decision, 'Allow');
        assert.equal(d.source, 'owner-root');
      });
    }
    it('other actions stay denied to the owner root', () => {
      assert.equal(decide({ request: req(root(), 's3:GetObject', obj('k')), resourcePolicy: lockout }).decision, 'ExplicitDeny');
    });
    it('the override is for the owner root only', () => {
      const request = req(user('bob'), 's3:PutBucketPolicy', 'arn:aws:s3:::b');
      assert.equal(decide({ request, resourcePolicy: lockout, identityPolicies: [identity(allowAll('*', 's3:*'))], ownerRootOverride: true }).decision, 'ExplicitDeny');
      const other = req(root(OTHER), 's3:PutBucketPolicy', 'arn:aws:s3:::b');
      assert.equal(decide({ request: other, resourcePolicy: lockout, ownerRootOverride: true }).decision, 'ExplicitDeny');
    });
  });

  it('a request on the caller\'s own resources needs no resourceAccount', () => {
    const request = req(bob, 's3:ListAllMyBuckets', '*', {}, undefined);
    assert.equal(decide({ request, identityPolicies: [identity(allowAll('arn:aws:s3:::*', 's3:ListAllMyBuckets'))] }).decision, 'Allow');
    assert.equal(decide({ request: req(root(), 's3:ListAllMyBuckets', '*', {}, undefined) }).decision, 'Allow');
  });
});

// ---------------------------------------------------------------------------------------------

describe('decide: a parsed policy reused across requests decides as a fresh one', () => {
  // decide() plans, per policy object, the statements an action and a caller can meet (evaluate.ts):
  // a policy evaluated many times for many callers and actions, in any order, must decide every
  // request exactly as a policy parsed for that request alone.
  const statements: Stmt[] = [
    { Sid: 'DenyLocked', Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::b/locked/*' },
    { Sid: 'Bob', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/bob` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
    { Sid: 'Account', Effect: 'Allow', Principal: { AWS: ACCT }, Action: ['s3:PutObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] },
    { Sid: 'Other', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:root` }, Action: 's3:Get*', Resource: 'arn:aws:s3:::b/shared/*' },
    { Sid: 'Role', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:role/r` }, Action: 's3:*', Resource: 'arn:aws:s3:::b/r/*' },
    { Sid: 'Session', Effect: 'Allow', Principal: { AWS: `arn:aws:sts::${ACCT}:assumed-role/r/s` }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' },
    { Sid: 'Canonical', Effect: 'Allow', Principal: { CanonicalUser: CANONICAL }, Action: 's3:GetObjectAcl', Resource: 'arn:aws:s3:::b/*' },
    { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/public/*' },
    { Sid: 'Logs', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/logs/*' },
    { Sid: 'NotBob', Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${ACCT}:user/bob`, ACCT] }, Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/keep/*' },
    { Sid: 'Home', Effect: 'Allow', Principal: { AWS: ACCT }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/home/${aws:username}/*' },
  ];
  const idStatements: Stmt[] = [allowAll('arn:aws:s3:::b/*', ['s3:GetObject', 's3:PutObject']), { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::b/secret/*' }];
  const callers = [user('bob'), user('alice'), user('eve', OTHER), session('r', 's'), session('r', 't'), session('x', 's'), root(), root(OTHER), anon, service('logging.s3.amazonaws.com')];
  const actions = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:GetObjectAcl', 's3:ListBucket', 's3:GetObjectVersion'];
  const resources = ['arn:aws:s3:::b', obj('locked/x'), obj('shared/x'), obj('r/x'), obj('public/x'), obj('logs/x'), obj('keep/x'), obj('home/bob/x'), obj('secret/x'), obj('x')];

  it('every caller × action × resource, the shared policies evaluated in between', () => {
    const shared = bucketPolicy(...statements);
    const sharedId = identity(...idStatements);
    let n = 0;
    let allowed = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const resource of pass === 0 ? resources : [...resources].reverse()) {
        for (const action of actions) {
          for (const p of pass === 0 ? callers : [...callers].reverse()) {
            const request = req(p, action, resource);
            const ids = p.kind === 'user' || p.kind === 'assumed-role';
            const got = decide({ request, resourcePolicy: shared, ...(ids ? { identityPolicies: [sharedId] } : {}) });
            const fresh = decide({ request, resourcePolicy: bucketPolicy(...statements), ...(ids ? { identityPolicies: [identity(...idStatements)] } : {}) });
            assert.deepEqual(got, fresh, `${p.arn ?? p.kind} ${action} ${resource}`);
            n++;
            if (got.decision === 'Allow') allowed++;
          }
        }
      }
    }
    assert.equal(n, 2 * callers.length * actions.length * resources.length);
    // The grid exercises all three outcomes, not just one.
    assert.ok(allowed > 50 && allowed < n - 50, `allowed ${allowed} of ${n}`);
  });

  it('frozen callers (their principal keys remembered, as the pipeline hands them out) and an overflowing plan cache change nothing', () => {
    const shared = bucketPolicy(...statements);
    const sharedId = identity(...idStatements);
    const frozen = callers.map((p) => Object.freeze({ ...p }));
    // More distinct callers than the plans kept per policy (256), so the cache empties mid-grid.
    const crowd = Array.from({ length: 300 }, (_, i) => Object.freeze(user(`u${i}`)));
    let n = 0;
    for (let pass = 0; pass < 2; pass++) {
      for (const resource of resources) {
        for (const action of actions) {
          for (const [i, p] of frozen.entries()) {
            const ids = p.kind === 'user' || p.kind === 'assumed-role';
            const got = decide({ request: req(p, action, resource), resourcePolicy: shared, ...(ids ? { identityPolicies: [sharedId] } : {}) });
            const fresh = decide({ request: req(callers[i]!, action, resource), resourcePolicy: bucketPolicy(...statements), ...(ids ? { identityPolicies: [identity(...idStatements)] } : {}) });
            assert.deepEqual(got, fresh, `${p.arn ?? p.kind} ${action} ${resource}`);
            n++;
          }
          const c = crowd[n % crowd.length]!;
          decide({ request: req(c, action, resource), resourcePolicy: shared, identityPolicies: [sharedId] });
        }
      }
      for (const c of crowd) decide({ request: req(c, 's3:GetObject', obj('x')), resourcePolicy: shared, identityPolicies: [sharedId] });
    }
    assert.equal(n, 2 * callers.length * actions.length * resources.length);
  });
});

// ---------------------------------------------------------------------------------------------

describe('isPublicPolicy (S3 User Guide, "The meaning of public")', () => {
  const pub = (s: Stmt): boolean => isPublicPolicy(bucketPolicy({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...s }));
  const rows: [string, Stmt, boolean][] = [
    ['Principal "*"', { Effect: 'Allow', Principal: '*' }, true],
    ['{"AWS": "*"}', { Effect: 'Allow', Principal: { AWS: '*' } }, true],
    ['"*" among fixed accounts', { Effect: 'Allow', Principal: { AWS: [ACCT, '*'] } }, true],
    ['Federated principal (the graph.facebook.com example)', { Effect: 'Allow', Principal: { Federated: 'graph.facebook.com' } }, true],
    ['NotPrincipal with Allow', { Effect: 'Allow', NotPrincipal: { AWS: ACCT } }, true],
    ['fixed account', { Effect: 'Allow', Principal: { AWS: ACCT } }, false],
    ['fixed user', { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/bob` } }, false],
    ['canonical user', { Effect: 'Allow', Principal: { CanonicalUser: CANONICAL } }, false],
    ['service principal', { Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' } }, false],
    ['Deny to "*"', { Effect: 'Deny', Principal: '*' }, false],
    ['"*" with StringLike aws:SourceVpc "vpc-*" (example)', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 'aws:SourceVpc': 'vpc-*' } } }, true],
    ['"*" with StringEquals aws:SourceVpc fixed (example)', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:SourceVpc': 'vpc-91237329' } } }, false],
    ['"*" with aws:SourceIp /24', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }, false],
    ['"*" with aws:SourceIp /8', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }, false],
    ['"*" with aws:SourceIp 0.0.0.0/0', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }, true],
    ['"*" with aws:SourceIp 0.0.0.0/1 (the doc\'s broad example)', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/1' } } }, true],
    ['"*" with aws:SourceIp ::/0', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '::/0' } } }, true],
    ['"*" with aws:SourceIp 2001:db8::/32', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } } }, false],
    ['"*" with one broad among narrow CIDRs', { Effect: 'Allow', Principal: '*', Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '0.0.0.0/0'] } } }, true],
    ['"*" with NotIpAddress', { Effect: 'Allow', Principal: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } }, true],
    ['"*" with IpAddressIfExists', { Effect: 'Allow', Principal: '*', Condition: { IpAddressIfExists: { 'aws:SourceIp': '203.0.113.0/24' } } }, true],
    ['"*" with aws:PrincipalOrgID fixed', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } } }, false],
    ['"*" with aws:PrincipalOrgID wildcard', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 'aws:PrincipalOrgID': 'o-*' } } }, true],
    ['"*" with aws:PrincipalAccount fixed', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': ACCT } } }, false],
    ['"*" with aws:PrincipalAccount as a variable', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '${aws:ResourceAccount}' } } }, true],
    ['"*" with aws:PrincipalArn fixed', { Effect: 'Allow', Principal: '*', Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/r` } } }, false],
    ['"*" with aws:PrincipalArn wildcard account', { Effect: 'Allow', Principal: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/r' } } }, true],
    ['"*" with ForAnyValue on a fixed key', { Effect: 'Allow', Principal: '*', Condition: { 'ForAnyValue:StringEquals': { 'aws:SourceAccount': ACCT } } }, false],
    ['"*" with ForAllValues (true on no values)', { Effect: 'Allow', Principal: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:SourceAccount': ACCT } } }, true],
    ['"*" with StringNotEquals', { Effect: 'Allow', Principal: '*', Condition: { StringNotEquals: { 'aws:SourceAccount': ACCT } } }, true],
    ['"*" with aws:SourceArn fixed', { Effect: 'Allow', Principal: '*', Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudfront::111122223333:distribution/E1' } } }, false],
    ['"*" with aws:SourceVpce fixed', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } }, false],
    ['"*" with aws:SourceOwner fixed', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:SourceOwner': ACCT } } }, false],
    ['"*" with a KMS key id fixed', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:us-east-1:111122223333:key/k' } } }, false],
    ['"*" with aws:userid "AROLEID:*"', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 'aws:userid': 'AROAEXAMPLEID:*' } } }, false],
    ['"*" with aws:userid "AROA*"', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 'aws:userid': 'AROA*' } } }, true],
    ['"*" with s3:DataAccessPointArn, wildcard name', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-west-2:123456789012:accesspoint/*' } } }, false],
    ['"*" with s3:DataAccessPointArn, wildcard account', { Effect: 'Allow', Principal: '*', Condition: { StringLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-west-2:*:accesspoint/*' } } }, true],
    ['"*" with s3:DataAccessPointAccount fixed', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 's3:DataAccessPointAccount': ACCT } } }, false],
    ['"*" with an unrelated fixed key', { Effect: 'Allow', Principal: '*', Condition: { StringEquals: { 'aws:UserAgent': 'curl' } } }, true],
    ['"*" with aws:SecureTransport', { Effect: 'Allow', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }, true],
  ];
  for (const [name, s, want] of rows) it(`${name} → ${want ? 'public' : 'not public'}`, () => assert.equal(pub(s), want));

  it('one public statement makes the whole policy public', () => {
    const p = bucketPolicy(
      { Effect: 'Allow', Principal: { AWS: ACCT }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/public/*' },
    );
    assert.equal(isPublicPolicy(p), true);
  });
});
