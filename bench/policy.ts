// Micro-benchmark of one authorisation decision: a 20-statement bucket policy plus 5
// identity-based policies, evaluated for one request (every policy is scanned for a Deny, as AWS
// requires). Run: npx tsc -p . && node dist/bench/policy.js
// Prints µs per decision (median of rounds) for a few request shapes; the target is well under
// 20 µs, since this runs on every request.

import { decide, parsePolicy, principalKeys, type DecisionInput, type Policy, type RequestContext, type RequestPrincipal } from '../src/authz/policy/index.js';

const ACCT = '111122223333';
const OTHER = '444455556666';
const doc = (statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

// A bucket policy of the kinds people write: public prefixes, per-account grants, deny rules on
// transport, IP, encryption headers and prefixes, home directories with variables.
const bucketStatements: object[] = [
  { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::data', 'arn:aws:s3:::data/*'], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
  { Sid: 'DenyOldTls', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::data/*', Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } },
  { Sid: 'DenyUnencrypted', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::data/*', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': ['AES256', 'aws:kms'] } } },
  { Sid: 'DenyOutsideNet', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject*', Resource: 'arn:aws:s3:::data/*', Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32'] } } },
  { Sid: 'DenyLocked', Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::data/locked/*' },
  { Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/public/*' },
  { Sid: 'PartnerRead', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${OTHER}:root`, '999988887777'] }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::data', 'arn:aws:s3:::data/shared/*'] },
  { Sid: 'PartnerWrite', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER}:role/uploader` }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::data/incoming/*', Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } } },
  { Sid: 'Logs', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::data/logs/*', Condition: { StringEquals: { 'aws:SourceAccount': ACCT } } },
  { Sid: 'Cdn', Effect: 'Allow', Principal: { Service: 'cloudfront.amazonaws.com' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/site/*', Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:cloudfront::${ACCT}:distribution/*` } } },
  { Sid: 'HomeList', Effect: 'Allow', Principal: { AWS: ACCT }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::data', Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] } } },
  { Sid: 'Home', Effect: 'Allow', Principal: { AWS: ACCT }, Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::data/home/${aws:username}/*' },
  { Sid: 'Analysts', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${ACCT}:role/analyst`, `arn:aws:iam::${ACCT}:role/auditor`] }, Action: 's3:Get*', Resource: 'arn:aws:s3:::data/reports/*' },
  { Sid: 'Tagged', Effect: 'Allow', Principal: { AWS: ACCT }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*', Condition: { StringEquals: { 's3:ExistingObjectTag/team': '${aws:PrincipalTag/team}' } } },
  { Sid: 'OrgRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/org/*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } },
  { Sid: 'Vpce', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::data/internal/*', Condition: { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } } },
  { Sid: 'BusinessHours', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCT}:user/ops` }, Action: 's3:*', Resource: 'arn:aws:s3:::data/ops/*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2024-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } } },
  { Sid: 'Versions', Effect: 'Allow', Principal: { AWS: ACCT }, Action: ['s3:GetObjectVersion', 's3:ListBucketVersions'], Resource: ['arn:aws:s3:::data', 'arn:aws:s3:::data/*'] },
  { Sid: 'Mfa', Effect: 'Deny', Principal: '*', Action: 's3:DeleteObjectVersion', Resource: 'arn:aws:s3:::data/*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } } },
  { Sid: 'NotOps', Effect: 'Deny', NotPrincipal: { AWS: [`arn:aws:iam::${ACCT}:user/ops`, `arn:aws:iam::${ACCT}:root`] }, Action: 's3:PutBucketPolicy', Resource: 'arn:aws:s3:::data' },
];

const identityDocs: object[][] = [
  [{ Sid: 'ReadAll', Effect: 'Allow', Action: ['s3:Get*', 's3:List*'], Resource: '*' }],
  [{ Sid: 'WriteHome', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::data/home/${aws:username}/*' }, { Sid: 'DenyDeleteBucket', Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' }],
  [{ Sid: 'Logs', Effect: 'Allow', Action: 'logs:*', Resource: '*' }, { Sid: 'Cw', Effect: 'Allow', Action: ['cloudwatch:PutMetricData', 'cloudwatch:Get*'], Resource: '*' }],
  [{ Sid: 'OnlyFromOffice', Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '10.0.0.0/8'] } } }],
  [{ Sid: 'Tags', Effect: 'Allow', Action: ['s3:PutObjectTagging', 's3:GetObjectTagging'], Resource: 'arn:aws:s3:::data/*', Condition: { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'env'] } } }],
];

const bucketPolicy = parsePolicy(doc(bucketStatements), 'resource', { bucket: 'data' });
const identityPolicies: Policy[] = identityDocs.map((d) => parsePolicy(doc(d), 'identity'));
const partnerPolicies: Policy[] = [
  ...identityPolicies.slice(0, 4),
  parsePolicy(doc([{ Sid: 'Upload', Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::data/incoming/*' }]), 'identity'),
];

const bob: RequestPrincipal = { kind: 'user', accountId: ACCT, arn: `arn:aws:iam::${ACCT}:user/bob`, username: 'bob', userId: 'AIDABOB' };
const anon: RequestPrincipal = { kind: 'anonymous' };
const partner: RequestPrincipal = { kind: 'assumed-role', accountId: OTHER, arn: `arn:aws:sts::${OTHER}:assumed-role/uploader/job1`, roleArn: `arn:aws:iam::${OTHER}:role/uploader`, userId: 'AROAUP:job1' };

function request(principal: RequestPrincipal, action: string, key: string, extra: Record<string, string>): RequestContext {
  const keys = principalKeys(principal);
  keys.set('aws:securetransport', ['true']);
  keys.set('aws:sourceip', ['10.1.2.3']);
  keys.set('aws:currenttime', [new Date().toISOString()]);
  keys.set('aws:epochtime', [String(Math.floor(Date.now() / 1000))]);
  keys.set('s3:tlsversion', ['1.3']);
  for (const [k, v] of Object.entries(extra)) keys.set(k, [v]);
  return { principal, action, resource: `arn:aws:s3:::data/${key}`, resourceAccount: ACCT, keys };
}

const scenarios: [string, DecisionInput][] = [
  ['user GetObject in home (identity allow)', { request: request(bob, 's3:GetObject', 'home/bob/notes.txt', {}), resourcePolicy: bucketPolicy, identityPolicies }],
  ['user PutObject in home (SSE header checked)', { request: request(bob, 's3:PutObject', 'home/bob/new.txt', { 's3:x-amz-server-side-encryption': 'AES256' }), resourcePolicy: bucketPolicy, identityPolicies }],
  ['user DeleteObject in locked/ (explicit deny)', { request: request(bob, 's3:DeleteObject', 'locked/x', {}), resourcePolicy: bucketPolicy, identityPolicies }],
  ['anonymous GetObject in public/', { request: request(anon, 's3:GetObject', 'public/logo.png', {}), resourcePolicy: bucketPolicy }],
  ['cross-account role PutObject in incoming/', { request: request(partner, 's3:PutObject', 'incoming/f', { 's3:x-amz-acl': 'bucket-owner-full-control', 's3:x-amz-server-side-encryption': 'aws:kms' }), resourcePolicy: bucketPolicy, identityPolicies: partnerPolicies }],
];

function measure(input: DecisionInput): number {
  const iterations = 20_000;
  let sink = 0;
  const rounds: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) if (decide(input).decision === 'Allow') sink++;
    rounds.push(Number(process.hrtime.bigint() - t0) / iterations / 1000);
  }
  if (sink < 0) throw new Error('unreachable');
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

// Warm up the JIT on every shape first.
for (const [, input] of scenarios) for (let i = 0; i < 50_000; i++) decide(input);

console.log(`bucket policy: ${bucketPolicy.statements.length} statements, ${identityPolicies.length} identity policies`);
for (const [name, input] of scenarios) {
  const d = decide(input);
  console.log(`${measure(input).toFixed(2).padStart(7)} µs/decision  ${name}: ${d.decision} — ${d.reason}`);
}
