// How a session's identity becomes a policy principal and condition keys: a role session is the
// 'assumed-role' principal of its role; a GetSessionToken session is the user (or root) that asked;
// every session adds aws:TokenIssueTime, aws:MultiFactorAuthPresent=false and aws:SourceIdentity.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Identity } from '../../src/auth/types.js';
import { principalOf } from '../../src/authz/authorize.js';
import { decide, parsePolicy, principalKeys } from '../../src/authz/policy/index.js';

const ACCT = '123456789012';
const CANON = 'c'.repeat(64);
const ISSUED = Date.UTC(2024, 4, 1, 12, 0, 0);
const base = { accessKeyId: 'ASIAEXAMPLE000000001', userId: CANON, accountId: ACCT, displayName: 'acct' };

const roleSession: Identity = {
  ...base,
  session: {
    kind: 'assumed-role',
    issuedAt: ISSUED,
    expiresAt: ISSUED + 3_600_000,
    sourceIdentity: 'alice',
    role: { id: 'AROAEXAMPLE0000000001', name: 'reader', path: '/app/', arn: `arn:aws:iam::${ACCT}:role/app/reader`, sessionName: 's1', sessionArn: `arn:aws:sts::${ACCT}:assumed-role/reader/s1` },
  },
};
const userSession: Identity = {
  ...base,
  user: { id: 'AIDAEXAMPLE0000000001', name: 'bob', path: '/', arn: `arn:aws:iam::${ACCT}:user/bob` },
  session: { kind: 'session-token', issuedAt: ISSUED, expiresAt: ISSUED + 3_600_000 },
};

describe('session principals', () => {
  it('a role session is its role’s assumed-role principal', () => {
    const p = principalOf(roleSession);
    assert.equal(p.kind, 'assumed-role');
    assert.equal(p.arn, `arn:aws:sts::${ACCT}:assumed-role/reader/s1`);
    assert.equal(p.roleArn, `arn:aws:iam::${ACCT}:role/app/reader`);
    assert.equal(p.userId, 'AROAEXAMPLE0000000001:s1');
    assert.equal(p.canonicalId, CANON);
    const keys = principalKeys(p);
    assert.deepEqual(keys.get('aws:principaltype'), ['AssumedRole']);
    assert.deepEqual(keys.get('aws:principalarn'), [`arn:aws:iam::${ACCT}:role/app/reader`]);
    assert.deepEqual(keys.get('aws:userid'), ['AROAEXAMPLE0000000001:s1']);
    assert.deepEqual(keys.get('aws:tokenissuetime'), ['2024-05-01T12:00:00Z']);
    assert.deepEqual(keys.get('aws:multifactorauthpresent'), ['false']);
    assert.deepEqual(keys.get('aws:sourceidentity'), ['alice']);
    assert.equal(keys.get('aws:username'), undefined);
  });

  it('a GetSessionToken session is the user that asked, with the session keys', () => {
    const p = principalOf(userSession);
    assert.equal(p.kind, 'user');
    assert.equal(p.arn, `arn:aws:iam::${ACCT}:user/bob`);
    const keys = principalKeys(p);
    assert.deepEqual(keys.get('aws:username'), ['bob']);
    assert.deepEqual(keys.get('aws:tokenissuetime'), ['2024-05-01T12:00:00Z']);
    assert.equal(keys.get('aws:sourceidentity'), undefined);
  });

  it('long-term credentials have no session keys', () => {
    const keys = principalKeys(principalOf({ ...base, accessKeyId: 'TRKEY' }));
    assert.equal(keys.get('aws:tokenissuetime'), undefined);
    assert.equal(keys.get('aws:multifactorauthpresent'), undefined);
  });

  it('revokes sessions issued before a date with aws:TokenIssueTime, as AWS recommends', () => {
    const allow = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }), 'identity');
    const revoke = parsePolicy(
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': '2024-05-01T12:30:00Z' } } }] }),
      'identity',
    );
    const principal = principalOf(roleSession);
    const request = { principal, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', keys: principalKeys(principal) };
    assert.equal(decide({ request, identityPolicies: [allow] }).decision, 'Allow');
    assert.equal(decide({ request, identityPolicies: [allow, revoke] }).decision, 'ExplicitDeny');
    const later = principalOf({ ...roleSession, session: { ...roleSession.session!, issuedAt: ISSUED + 3_600_000 } });
    assert.equal(decide({ request: { ...request, principal: later, keys: principalKeys(later) }, identityPolicies: [allow, revoke] }).decision, 'Allow');
  });
});
