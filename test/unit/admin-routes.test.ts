// The admin API's route table and token scopes, as pure logic: one route per method and path,
// well-formed templates and schemas, matching and its errors, scope validation.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { matchRoute } from '../../src/admin/api.js';
import { AdminError } from '../../src/admin/errors.js';
import { resourceArn } from '../../src/admin/route.js';
import { ROUTES } from '../../src/admin/routes.js';
import { checkScope, scopePolicy } from '../../src/admin/tokens.js';
import { decide } from '../../src/authz/policy/index.js';

describe('admin route table', () => {
  it('has one route per method and path, well-formed, with compilable schemas', () => {
    const seen = new Set<string>();
    const ajv = new Ajv({ strict: false });
    for (const r of ROUTES) {
      const key = `${r.method} ${r.path}`;
      assert.ok(!seen.has(key), `${key} twice`);
      seen.add(key);
      assert.match(r.action, /^[A-Z][A-Za-z]+$/, key);
      assert.match(r.path, /^(\/([a-z][a-z0-9.-]*|\{[a-z][A-Za-z]*\}))+$/, key);
      if (r.body) {
        assert.ok(['POST', 'PUT', 'PATCH'].includes(r.method), `${key}: a body on ${r.method}`);
        ajv.compile(r.body);
      }
      if (r.response.status === 204) assert.equal(r.response.schema, undefined, key);
      else ajv.compile(r.response.schema!);
    }
    const ids = ROUTES.map((r) => r.operationId ?? r.action);
    assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  });

  it('matches paths, decodes parameters, and tells a wrong method from an unknown path', () => {
    const m = matchRoute('GET', ['accounts', '123456789012', 'users', 'a+b@c']);
    assert.equal(m.route.action, 'GetUser');
    assert.deepEqual(m.params, { accountId: '123456789012', userName: 'a+b@c' });
    assert.equal(resourceArn(m.path), 'arn:trove:admin:::accounts/123456789012/users/a+b@c');
    assert.throws(() => matchRoute('DELETE', ['accounts']), (e: AdminError) => e.status === 405 && e.code === 'MethodNotAllowed');
    assert.throws(() => matchRoute('GET', ['accounts', '1', 'nothing']), (e: AdminError) => e.status === 404 && e.code === 'NoSuchRoute');
    assert.throws(() => matchRoute('GET', ['']), (e: AdminError) => e.code === 'NoSuchRoute');
  });
});

describe('admin token scopes', () => {
  it('accept admin actions (with wildcards) and admin resources only', () => {
    checkScope({ actions: ['admin:*', 'admin:List*'], resources: ['*', 'arn:trove:admin:::buckets/*'] });
    assert.throws(() => checkScope({ actions: [], resources: ['*'] }), /at least one action/);
    assert.throws(() => checkScope({ actions: ['s3:GetObject'], resources: ['*'] }), /invalid action/);
    assert.throws(() => checkScope({ actions: ['admin:*'], resources: ['arn:aws:s3:::b'] }), /invalid resource/);
  });

  it('allow what the scope names, on the resources it names, and nothing else', () => {
    const policy = scopePolicy({ actions: ['admin:Get*'], resources: ['arn:trove:admin:::buckets/*'] });
    const ask = (action: string, resource: string) =>
      decide({ request: { principal: { kind: 'user', accountId: '111111111111', arn: 'arn:trove:admin:::token/x' }, action, resource, resourceAccount: '111111111111', keys: new Map() }, identityPolicies: [policy] }).decision;
    assert.equal(ask('admin:GetBucket', 'arn:trove:admin:::buckets/photos'), 'Allow');
    assert.equal(ask('admin:SetBucketQuota', 'arn:trove:admin:::buckets/photos/quota'), 'ImplicitDeny');
    assert.equal(ask('admin:GetAccount', 'arn:trove:admin:::accounts/111111111111'), 'ImplicitDeny');
  });
});
