// The admin API's one route table: method and path (under /admin/v1) → the admin action it needs,
// its schemas and its handler. The OpenAPI document (openapi.ts) is generated from it, request
// bodies are validated against it, and test/admin-api.test.ts checks every answer against it.
//
// Authorisation: `admin:<action>` on `arn:trove:admin:::<the path, filled in>` (route.ts), e.g.
// admin:CreateUser on arn:trove:admin:::accounts/123456789012/users.

import * as accounts from './handlers/accounts.js';
import * as buckets from './handlers/buckets.js';
import * as iam from './handlers/iam.js';
import * as reg from './handlers/registries.js';
import * as server from './handlers/server.js';
import type { AdminRoute, JsonSchema, QueryParam } from './route.js';
import * as S from './schema.js';
import { USAGE_QUERY_PARAMETERS, USAGE_REPORT_SCHEMA } from '../usage/index.js';

/** The usage report's JSON Schema as a route's response (without its own $schema: the document has one). */
const { $schema: _draft, ...usageReportSchema } = USAGE_REPORT_SCHEMA;

const ok = (schema: JsonSchema, description = 'OK') => ({ status: 200 as const, schema, description });
const created = (schema: JsonSchema, description = 'Created') => ({ status: 201 as const, schema, description });
const done = (description = 'Done') => ({ status: 204 as const, description });

const paging: QueryParam[] = [
  { name: 'marker', description: 'continue after this marker (from the previous page)', schema: S.str },
  { name: 'maxItems', description: 'items per page (1-1000, default 100)', schema: { type: 'string', pattern: '^\\d+$' } },
];
const pageFields = { isTruncated: S.bool, marker: S.str };

const policyDocument: JsonSchema = { type: 'object', description: 'an IAM policy document (JSON)', additionalProperties: true };
const nameAndPath = S.obj({ name: S.str, path: S.str }, ['name']);
const nullableCount: JsonSchema = { type: ['integer', 'null'], minimum: 0 };
const quotaBody = S.obj({ maxBytes: nullableCount, maxObjects: nullableCount });
const qosBody = S.obj({ rps: nullableCount, upBps: nullableCount, downBps: nullableCount });
const usageReport = S.obj({ ...(S.usage.properties as Record<string, JsonSchema>), quota: S.quota }, ['bytes', 'objects', 'stagedBytes']);
const attachments = { user: iam.attachments('user'), group: iam.attachments('group'), role: iam.attachments('role') };

const U = '/accounts/{accountId}/users/{userName}';
const G = '/accounts/{accountId}/groups/{groupName}';
const R = '/accounts/{accountId}/roles/{roleName}';

export const ROUTES: readonly AdminRoute[] = [
  // the API itself
  { method: 'GET', path: '/openapi.json', action: 'GetOpenApi', tag: 'api', summary: 'This API as an OpenAPI 3.1 document (no authentication)', public: true, response: ok({ type: 'object' }), handler: async () => undefined },

  // server
  { method: 'GET', path: '/info', action: 'GetServerInfo', tag: 'server', summary: 'Version, node, stores, uptime', response: ok(S.obj({ version: S.str, node: S.str, region: S.str, metaStore: S.oneOf('sqlite', 'postgres'), dataDir: S.str, nodeVersion: S.str, pid: S.int, startedAt: S.time, uptimeSeconds: S.int, rootAccountId: S.accountId }, ['version', 'node', 'region', 'metaStore', 'startedAt', 'uptimeSeconds'])), handler: server.info },
  { method: 'GET', path: '/health', action: 'GetHealth', tag: 'server', summary: 'Liveness and readiness (metadata store answers, data directory writable)', response: ok(S.obj({ live: S.bool, ready: S.bool, problem: S.str }, ['live', 'ready'])), handler: server.health },
  { method: 'GET', path: '/config', action: 'GetConfig', tag: 'server', summary: 'The configuration in force (secrets shown as "(set)", URL passwords hidden)', response: ok({ type: 'object' }), handler: server.config },
  { method: 'GET', path: '/usage', action: 'GetUsage', tag: 'server', summary: 'Bytes and objects stored now, by bucket and by account, with quotas', response: ok(S.obj({ at: S.time, buckets: S.arr(S.obj({ bucket: S.str, ...(usageReport.properties as Record<string, JsonSchema>) }, ['bucket', 'bytes', 'objects', 'stagedBytes'])), accounts: S.arr(S.obj({ account: S.accountId, ...(usageReport.properties as Record<string, JsonSchema>) }, ['account', 'bytes', 'objects', 'stagedBytes'])) }, ['at', 'buckets', 'accounts'])), handler: server.usage },
  { method: 'GET', path: '/usage/reports', action: 'GetUsageReport', tag: 'server', summary: 'Usage per hour or day: requests by operation class, bytes in and out, errors, stored bytes and objects by storage class; per account, bucket and user (format=csv for CSV)', query: USAGE_QUERY_PARAMETERS.map((q) => ({ name: q.name, description: q.description, schema: q.schema as JsonSchema })), response: { ...ok(usageReportSchema), alternatives: ['text/csv'] }, handler: server.usageReports },
  { method: 'GET', path: '/work', action: 'GetWorkQueue', tag: 'server', summary: "The work engine's queue: depth, lag and failures by kind", response: ok(S.obj({ depth: S.int, lagMs: { type: 'number' }, failing: S.int, kinds: S.arr(S.workKind) }, ['depth', 'lagMs', 'failing', 'kinds'])), handler: server.work },
  { method: 'GET', path: '/replication', action: 'GetReplicationStatus', tag: 'server', summary: 'Replication backlog per bucket and rule (versions waiting, bytes, failing, lag)', response: ok(S.obj({ rules: S.arr(S.obj({ bucket: S.str, rule: S.str, pending: S.int, bytes: S.int, failing: S.int, lagMs: { type: 'number' } }, ['bucket', 'rule', 'pending', 'bytes', 'failing', 'lagMs'])) }, ['rules'])), handler: server.replication },

  // accounts
  { method: 'GET', path: '/accounts', action: 'ListAccounts', tag: 'accounts', summary: 'Every account', response: ok(S.list('accounts', S.account)), handler: accounts.listAccounts },
  { method: 'POST', path: '/accounts', action: 'CreateAccount', tag: 'accounts', summary: 'Create an account and its root access key (ids and keys generated unless given)', body: S.obj({ name: { type: 'string', minLength: 1, maxLength: 256 }, email: S.str, accountId: S.accountId, canonicalId: { type: 'string', pattern: '^[0-9a-f]{64}$' }, accessKeyId: { type: 'string', pattern: '^[A-Za-z0-9]{16,128}$' }, secretAccessKey: { type: 'string', minLength: 1, maxLength: 256 } }, ['name']), response: created(S.obj({ account: S.account, accessKeyId: S.str, secretAccessKey: S.str }, ['account', 'accessKeyId', 'secretAccessKey'])), handler: accounts.createAccount },
  { method: 'GET', path: '/accounts/{accountId}', action: 'GetAccount', tag: 'accounts', summary: 'An account with its usage, quota and QoS limits', response: ok(S.account), handler: accounts.getAccount },
  { method: 'PATCH', path: '/accounts/{accountId}', action: 'UpdateAccount', tag: 'accounts', summary: "Rename an account or change its email (null removes it)", body: S.obj({ name: { type: 'string', minLength: 1, maxLength: 256 }, email: { type: ['string', 'null'] } }), response: ok(S.account), handler: accounts.updateAccount },
  { method: 'PUT', path: '/accounts/{accountId}/quota', action: 'SetAccountQuota', tag: 'accounts', summary: "Set an account's storage quota (limits given are set, null removes one, others kept)", body: quotaBody, response: ok(usageReport), handler: accounts.setAccountQuota },
  { method: 'DELETE', path: '/accounts/{accountId}/quota', action: 'DeleteAccountQuota', tag: 'accounts', summary: "Remove an account's storage quota", response: ok(usageReport), handler: accounts.clearAccountQuota },
  { method: 'GET', path: '/accounts/{accountId}/qos', action: 'GetAccountQos', tag: 'accounts', summary: "An account's request and byte rates (per node)", response: ok(S.qos), handler: accounts.accountQos.get },
  { method: 'PUT', path: '/accounts/{accountId}/qos', action: 'SetAccountQos', tag: 'accounts', summary: "Set an account's rates (given ones set, null removes one)", body: qosBody, response: ok(S.qos), handler: accounts.accountQos.set },
  { method: 'DELETE', path: '/accounts/{accountId}/qos', action: 'DeleteAccountQos', tag: 'accounts', summary: "Remove an account's rates", response: done(), handler: accounts.accountQos.clear },

  // an account's root access keys
  { method: 'GET', path: '/accounts/{accountId}/keys', action: 'ListAccessKeys', operationId: 'ListRootAccessKeys', tag: 'keys', summary: "The account root user's access keys", query: paging, response: ok(S.obj({ keys: S.arr(S.accessKey), ...pageFields }, ['keys', 'isTruncated'])), handler: iam.listKeys },
  { method: 'POST', path: '/accounts/{accountId}/keys', action: 'CreateAccessKey', operationId: 'CreateRootAccessKey', tag: 'keys', summary: 'A new root access key (at most two per user)', response: created(S.accessKey), handler: iam.createKey },
  { method: 'PATCH', path: '/accounts/{accountId}/keys/{accessKeyId}', action: 'UpdateAccessKey', operationId: 'UpdateRootAccessKey', tag: 'keys', summary: 'Activate or deactivate a root access key', body: S.obj({ status: S.oneOf('Active', 'Inactive') }, ['status']), response: ok(S.accessKey), handler: iam.updateKey },
  { method: 'DELETE', path: '/accounts/{accountId}/keys/{accessKeyId}', action: 'DeleteAccessKey', operationId: 'DeleteRootAccessKey', tag: 'keys', summary: 'Delete a root access key', response: done(), handler: iam.deleteKey },

  // IAM users
  { method: 'GET', path: '/accounts/{accountId}/users', action: 'ListUsers', tag: 'users', summary: "An account's IAM users", query: [...paging, { name: 'pathPrefix', description: 'only users under this path', schema: S.str }], response: ok(S.obj({ users: S.arr(S.user), ...pageFields }, ['users', 'isTruncated'])), handler: iam.listUsers },
  { method: 'POST', path: '/accounts/{accountId}/users', action: 'CreateUser', tag: 'users', summary: 'Create an IAM user', body: nameAndPath, response: created(S.obj({ User: S.user }, ['User'])), handler: iam.createUser },
  { method: 'GET', path: U, action: 'GetUser', tag: 'users', summary: 'An IAM user and its groups', response: ok(S.obj({ User: S.user, Groups: S.arr(S.group) }, ['User', 'Groups'])), handler: iam.getUser },
  { method: 'PATCH', path: U, action: 'UpdateUser', tag: 'users', summary: 'Rename an IAM user or change its path', body: S.obj({ name: S.str, path: S.str }), response: ok(S.obj({ User: S.user }, ['User'])), handler: iam.updateUser },
  { method: 'DELETE', path: U, action: 'DeleteUser', tag: 'users', summary: 'Delete an IAM user (it must have no keys, groups or policies, as in IAM)', response: done(), handler: iam.deleteUser },
  { method: 'GET', path: `${U}/keys`, action: 'ListAccessKeys', tag: 'keys', summary: "An IAM user's access keys", query: paging, response: ok(S.obj({ keys: S.arr(S.accessKey), ...pageFields }, ['keys', 'isTruncated'])), handler: iam.listKeys },
  { method: 'POST', path: `${U}/keys`, action: 'CreateAccessKey', tag: 'keys', summary: 'A new access key of an IAM user (the secret is shown only here)', response: created(S.accessKey), handler: iam.createKey },
  { method: 'PATCH', path: `${U}/keys/{accessKeyId}`, action: 'UpdateAccessKey', tag: 'keys', summary: "Activate or deactivate an IAM user's access key", body: S.obj({ status: S.oneOf('Active', 'Inactive') }, ['status']), response: ok(S.accessKey), handler: iam.updateKey },
  { method: 'DELETE', path: `${U}/keys/{accessKeyId}`, action: 'DeleteAccessKey', tag: 'keys', summary: "Delete an IAM user's access key", response: done(), handler: iam.deleteKey },
  { method: 'GET', path: `${U}/qos`, action: 'GetUserQos', tag: 'users', summary: "An IAM user's request and byte rates", response: ok(S.qos), handler: accounts.userQos.get },
  { method: 'PUT', path: `${U}/qos`, action: 'SetUserQos', tag: 'users', summary: "Set an IAM user's rates", body: qosBody, response: ok(S.qos), handler: accounts.userQos.set },
  { method: 'DELETE', path: `${U}/qos`, action: 'DeleteUserQos', tag: 'users', summary: "Remove an IAM user's rates", response: done(), handler: accounts.userQos.clear },
  { method: 'GET', path: `${U}/attached-policies`, action: 'ListAttachedUserPolicies', tag: 'policies', summary: 'Managed policies attached to a user', query: paging, response: ok(S.obj({ policies: S.arr(S.attachedPolicy), ...pageFields }, ['policies', 'isTruncated'])), handler: attachments.user.list },
  { method: 'PUT', path: `${U}/attached-policies/{policyName}`, action: 'AttachUserPolicy', tag: 'policies', summary: "Attach one of the account's managed policies to a user", response: done(), handler: attachments.user.attach },
  { method: 'DELETE', path: `${U}/attached-policies/{policyName}`, action: 'DetachUserPolicy', tag: 'policies', summary: 'Detach a managed policy from a user', response: done(), handler: attachments.user.detach },
  { method: 'GET', path: `${U}/inline-policies`, action: 'ListUserPolicies', tag: 'policies', summary: "A user's inline policies", query: paging, response: ok(S.obj({ policyNames: S.arr(S.str), ...pageFields }, ['policyNames', 'isTruncated'])), handler: attachments.user.listInline },
  { method: 'PUT', path: `${U}/inline-policies/{policyName}`, action: 'PutUserPolicy', tag: 'policies', summary: 'Set an inline policy of a user', body: S.obj({ document: policyDocument }, ['document']), response: ok(S.obj({ PolicyName: S.str, Document: policyDocument }, ['PolicyName', 'Document'])), handler: attachments.user.putInline },
  { method: 'GET', path: `${U}/inline-policies/{policyName}`, action: 'GetUserPolicy', tag: 'policies', summary: 'An inline policy of a user', response: ok(S.obj({ PolicyName: S.str, Document: policyDocument }, ['PolicyName', 'Document'])), handler: attachments.user.getInline },
  { method: 'DELETE', path: `${U}/inline-policies/{policyName}`, action: 'DeleteUserPolicy', tag: 'policies', summary: 'Delete an inline policy of a user', response: done(), handler: attachments.user.deleteInline },

  // groups
  { method: 'GET', path: '/accounts/{accountId}/groups', action: 'ListGroups', tag: 'groups', summary: "An account's IAM groups", query: [...paging, { name: 'pathPrefix', description: 'only groups under this path', schema: S.str }], response: ok(S.obj({ groups: S.arr(S.group), ...pageFields }, ['groups', 'isTruncated'])), handler: iam.listGroups },
  { method: 'POST', path: '/accounts/{accountId}/groups', action: 'CreateGroup', tag: 'groups', summary: 'Create a group', body: nameAndPath, response: created(S.obj({ Group: S.group }, ['Group'])), handler: iam.createGroup },
  { method: 'GET', path: G, action: 'GetGroup', tag: 'groups', summary: 'A group and its members', query: paging, response: ok(S.obj({ Group: S.group, Users: S.arr(S.user), ...pageFields }, ['Group', 'Users', 'isTruncated'])), handler: iam.getGroup },
  { method: 'DELETE', path: G, action: 'DeleteGroup', tag: 'groups', summary: 'Delete a group (it must have no members or policies, as in IAM)', response: done(), handler: iam.deleteGroup },
  { method: 'PUT', path: `${G}/users/{userName}`, action: 'AddUserToGroup', tag: 'groups', summary: 'Add a user to a group', response: done(), handler: iam.addGroupMember },
  { method: 'DELETE', path: `${G}/users/{userName}`, action: 'RemoveUserFromGroup', tag: 'groups', summary: 'Remove a user from a group', response: done(), handler: iam.removeGroupMember },
  { method: 'GET', path: `${G}/attached-policies`, action: 'ListAttachedGroupPolicies', tag: 'policies', summary: 'Managed policies attached to a group', query: paging, response: ok(S.obj({ policies: S.arr(S.attachedPolicy), ...pageFields }, ['policies', 'isTruncated'])), handler: attachments.group.list },
  { method: 'PUT', path: `${G}/attached-policies/{policyName}`, action: 'AttachGroupPolicy', tag: 'policies', summary: "Attach one of the account's managed policies to a group", response: done(), handler: attachments.group.attach },
  { method: 'DELETE', path: `${G}/attached-policies/{policyName}`, action: 'DetachGroupPolicy', tag: 'policies', summary: 'Detach a managed policy from a group', response: done(), handler: attachments.group.detach },
  { method: 'GET', path: `${G}/inline-policies`, action: 'ListGroupPolicies', tag: 'policies', summary: "A group's inline policies", query: paging, response: ok(S.obj({ policyNames: S.arr(S.str), ...pageFields }, ['policyNames', 'isTruncated'])), handler: attachments.group.listInline },
  { method: 'PUT', path: `${G}/inline-policies/{policyName}`, action: 'PutGroupPolicy', tag: 'policies', summary: 'Set an inline policy of a group', body: S.obj({ document: policyDocument }, ['document']), response: ok(S.obj({ PolicyName: S.str, Document: policyDocument }, ['PolicyName', 'Document'])), handler: attachments.group.putInline },
  { method: 'GET', path: `${G}/inline-policies/{policyName}`, action: 'GetGroupPolicy', tag: 'policies', summary: 'An inline policy of a group', response: ok(S.obj({ PolicyName: S.str, Document: policyDocument }, ['PolicyName', 'Document'])), handler: attachments.group.getInline },
  { method: 'DELETE', path: `${G}/inline-policies/{policyName}`, action: 'DeleteGroupPolicy', tag: 'policies', summary: 'Delete an inline policy of a group', response: done(), handler: attachments.group.deleteInline },

  // roles
  { method: 'GET', path: '/accounts/{accountId}/roles', action: 'ListRoles', tag: 'roles', summary: "An account's IAM roles", query: [...paging, { name: 'pathPrefix', description: 'only roles under this path', schema: S.str }], response: ok(S.obj({ roles: S.arr(S.role), ...pageFields }, ['roles', 'isTruncated'])), handler: iam.listRoles },
  { method: 'POST', path: '/accounts/{accountId}/roles', action: 'CreateRole', tag: 'roles', summary: 'Create a role with its trust policy', body: S.obj({ name: S.str, path: S.str, description: S.str, maxSessionDuration: { type: 'integer', minimum: 3600, maximum: 43200 }, trustPolicy: policyDocument }, ['name', 'trustPolicy']), response: created(S.obj({ Role: S.role }, ['Role'])), handler: iam.createRole },
  { method: 'GET', path: R, action: 'GetRole', tag: 'roles', summary: 'A role', response: ok(S.obj({ Role: S.role }, ['Role'])), handler: iam.getRole },
  { method: 'DELETE', path: R, action: 'DeleteRole', tag: 'roles', summary: 'Delete a role (it must have no policies, as in IAM)', response: done(), handler: iam.deleteRole },
  { method: 'GET', path: `${R}/attached-policies`, action: 'ListAttachedRolePolicies', tag: 'policies', summary: 'Managed policies attached to a role', query: paging, response: ok(S.obj({ policies: S.arr(S.attachedPolicy), ...pageFields }, ['policies', 'isTruncated'])), handler: attachments.role.list },
  { method: 'PUT', path: `${R}/attached-policies/{policyName}`, action: 'AttachRolePolicy', tag: 'policies', summary: "Attach one of the account's managed policies to a role", response: done(), handler: attachments.role.attach },
  { method: 'DELETE', path: `${R}/attached-policies/{policyName}`, action: 'DetachRolePolicy', tag: 'policies', summary: 'Detach a managed policy from a role', response: done(), handler: attachments.role.detach },
  { method: 'GET', path: `${R}/inline-policies`, action: 'ListRolePolicies', tag: 'policies', summary: "A role's inline policies", query: paging, response: ok(S.obj({ policyNames: S.arr(S.str), ...pageFields }, ['policyNames', 'isTruncated'])), handler: attachments.role.listInline },
  { method: 'PUT', path: `${R}/inline-policies/{policyName}`, action: 'PutRolePolicy', tag: 'policies', summary: 'Set an inline policy of a role', body: S.obj({ document: policyDocument }, ['document']), response: ok(S.obj({ PolicyName: S.str, Document: policyDocument }, ['PolicyName', 'Document'])), handler: attachments.role.putInline },
  { method: 'GET', path: `${R}/inline-policies/{policyName}`, action: 'GetRolePolicy', tag: 'policies', summary: 'An inline policy of a role', response: ok(S.obj({ PolicyName: S.str, Document: policyDocument }, ['PolicyName', 'Document'])), handler: attachments.role.getInline },
  { method: 'DELETE', path: `${R}/inline-policies/{policyName}`, action: 'DeleteRolePolicy', tag: 'policies', summary: 'Delete an inline policy of a role', response: done(), handler: attachments.role.deleteInline },

  // managed policies
  { method: 'GET', path: '/accounts/{accountId}/policies', action: 'ListPolicies', tag: 'policies', summary: "The account's managed policies", query: paging, response: ok(S.obj({ policies: S.arr(S.managedPolicy), ...pageFields }, ['policies', 'isTruncated'])), handler: iam.listPolicies },
  { method: 'POST', path: '/accounts/{accountId}/policies', action: 'CreatePolicy', tag: 'policies', summary: 'Create a managed policy', body: S.obj({ name: S.str, path: S.str, description: S.str, document: policyDocument }, ['name', 'document']), response: created(S.obj({ ...(S.managedPolicy.properties as Record<string, JsonSchema>), Document: policyDocument }, ['PolicyName', 'Arn', 'Document'])), handler: iam.createPolicy },
  { method: 'GET', path: '/accounts/{accountId}/policies/{policyName}', action: 'GetPolicy', tag: 'policies', summary: 'A managed policy with its default version\'s document', response: ok(S.obj({ ...(S.managedPolicy.properties as Record<string, JsonSchema>), Document: policyDocument }, ['PolicyName', 'Arn', 'Document'])), handler: iam.getPolicy },
  { method: 'PUT', path: '/accounts/{accountId}/policies/{policyName}', action: 'UpdatePolicy', tag: 'policies', summary: 'A new default version of a managed policy (the oldest is dropped beyond five)', body: S.obj({ document: policyDocument }, ['document']), response: ok(S.obj({ ...(S.managedPolicy.properties as Record<string, JsonSchema>), Document: policyDocument }, ['PolicyName', 'Arn', 'Document'])), handler: iam.updatePolicy },
  { method: 'DELETE', path: '/accounts/{accountId}/policies/{policyName}', action: 'DeletePolicy', tag: 'policies', summary: 'Delete a managed policy and its versions (it must be detached, as in IAM)', response: done(), handler: iam.deletePolicy },

  // buckets
  { method: 'GET', path: '/buckets', action: 'ListBuckets', tag: 'buckets', summary: 'Buckets with owner, usage, quota, versioning and object lock status', query: [{ name: 'account', description: "only this account's buckets (12 digits)", schema: S.accountId }, { name: 'prefix', description: 'names starting with this', schema: S.str }, { name: 'after', description: 'names after this one (the previous page\'s "next")', schema: S.str }, { name: 'limit', description: 'at most this many (1-1000, default 1000)', schema: { type: 'string', pattern: '^\\d+$' } }], response: ok(S.obj({ buckets: S.arr(S.bucket), isTruncated: S.bool, next: S.str }, ['buckets', 'isTruncated'])), handler: buckets.listBuckets },
  { method: 'GET', path: '/buckets/{bucket}', action: 'GetBucket', tag: 'buckets', summary: 'A bucket, with the configurations it has', response: ok(S.bucket), handler: buckets.getBucket },
  { method: 'PUT', path: '/buckets/{bucket}/quota', action: 'SetBucketQuota', tag: 'buckets', summary: "Set a bucket's storage quota (limits given are set, null removes one, others kept)", body: quotaBody, response: ok(usageReport), handler: buckets.setBucketQuota },
  { method: 'POST', path: '/buckets/{bucket}/replication/resync', action: 'ResyncReplication', tag: 'buckets', summary: "Queue every existing version the bucket's replication rules match (versions the destination has are skipped)", response: ok(S.obj({ queued: S.int }, ['queued'])), handler: buckets.resyncReplication },
  { method: 'DELETE', path: '/buckets/{bucket}/quota', action: 'DeleteBucketQuota', tag: 'buckets', summary: "Remove a bucket's storage quota", response: ok(usageReport), handler: buckets.clearBucketQuota },

  // KMS keys
  { method: 'GET', path: '/kms/keys', action: 'ListKmsKeys', tag: 'kms', summary: 'KMS keys of the built-in key service (SSE-KMS; the SSE-S3 key is one)', response: ok(S.list('keys', S.kmsKey)), handler: reg.listKmsKeys },
  { method: 'POST', path: '/kms/keys', action: 'CreateKmsKey', tag: 'kms', summary: 'Create a KMS key (needs the server to have a master key)', body: S.obj({ id: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' }, alias: { type: 'string', pattern: '^[A-Za-z0-9/_-]{1,250}$' }, description: { type: 'string', maxLength: 8192 } }), response: created(S.kmsKey), handler: reg.createKmsKey },
  { method: 'GET', path: '/kms/keys/{keyId}', action: 'GetKmsKey', tag: 'kms', summary: 'A KMS key (by id or alias/<name>)', response: ok(S.kmsKey), handler: reg.getKmsKey },
  { method: 'PATCH', path: '/kms/keys/{keyId}', action: 'UpdateKmsKey', tag: 'kms', summary: 'Enable or disable a KMS key', body: S.obj({ enabled: S.bool }, ['enabled']), response: ok(S.kmsKey), handler: reg.updateKmsKey },
  { method: 'POST', path: '/kms/keys/{keyId}/rotate', action: 'RotateKmsKey', tag: 'kms', summary: 'Add a key version (new objects use it; old ones keep theirs)', response: ok(S.kmsKey), handler: reg.rotateKmsKey },

  // tiers
  { method: 'GET', path: '/tiers', action: 'ListTiers', tag: 'tiers', summary: 'Remote tiers lifecycle transitions move data to', response: ok(S.list('tiers', S.tier)), handler: reg.listTiers },
  { method: 'POST', path: '/tiers', action: 'CreateTier', tag: 'tiers', summary: 'Add a remote tier (its secret key is sealed under the master key when there is one)', body: S.obj({ name: S.str, endpoint: S.str, bucket: S.str, prefix: S.str, region: S.str, accessKey: S.str, secretKey: S.str, archive: S.bool, storageClasses: S.arr(S.str) }, ['name', 'endpoint', 'bucket', 'accessKey', 'secretKey']), response: created(S.tier), handler: reg.createTier },
  { method: 'GET', path: '/tiers/{name}', action: 'GetTier', tag: 'tiers', summary: 'A remote tier', response: ok(S.tier), handler: reg.getTier },
  { method: 'DELETE', path: '/tiers/{name}', action: 'DeleteTier', tag: 'tiers', summary: 'Remove a tier (objects moved there are unreadable until one of that name is added again)', response: done(), handler: reg.deleteTier },

  // replication remotes
  { method: 'GET', path: '/remotes', action: 'ListRemotes', tag: 'remotes', summary: 'Replication destinations', response: ok(S.list('remotes', S.remote)), handler: reg.listRemotes },
  { method: 'POST', path: '/remotes', action: 'CreateRemote', tag: 'remotes', summary: 'Add a replication destination and the buckets it holds', body: S.obj({ name: S.str, endpoint: S.str, region: S.str, accessKey: S.str, secretKey: S.str, buckets: S.arr(S.str) }, ['name', 'endpoint', 'accessKey', 'secretKey', 'buckets']), response: created(S.remote), handler: reg.createRemote },
  { method: 'GET', path: '/remotes/{name}', action: 'GetRemote', tag: 'remotes', summary: 'A replication destination', response: ok(S.remote), handler: reg.getRemote },
  { method: 'DELETE', path: '/remotes/{name}', action: 'DeleteRemote', tag: 'remotes', summary: 'Remove a replication destination', response: done(), handler: reg.deleteRemote },

  // notification targets
  { method: 'GET', path: '/targets', action: 'ListTargets', tag: 'targets', summary: 'Event notification targets (secrets never shown)', response: ok(S.list('targets', S.target)), handler: reg.listTargets },
  { method: 'PUT', path: '/targets/{name}', action: 'PutTarget', tag: 'targets', summary: 'Add or replace a notification target', body: S.obj({ type: S.oneOf('webhook', 'amqp', 'redis', 'nats', 'mqtt', 'postgres'), endpoint: S.str, destination: S.str, exchange: S.str, format: S.oneOf('list', 'stream'), token: S.str, ca: S.str }, ['type', 'endpoint']), response: ok(S.target), handler: reg.putTarget },
  { method: 'GET', path: '/targets/{name}', action: 'GetTarget', tag: 'targets', summary: 'A notification target', response: ok(S.target), handler: reg.getTarget },
  { method: 'DELETE', path: '/targets/{name}', action: 'DeleteTarget', tag: 'targets', summary: 'Remove a notification target (events queued for it are dropped)', response: done(), handler: reg.deleteTarget },

  // admin tokens
  { method: 'GET', path: '/tokens', action: 'ListTokens', tag: 'tokens', summary: 'Admin tokens (never their secrets)', response: ok(S.list('tokens', S.tokenInfo)), handler: reg.listTokens },
  { method: 'POST', path: '/tokens', action: 'CreateToken', tag: 'tokens', summary: 'Create a scoped, expiring admin token (the token is shown only here)', body: S.obj({ name: S.str, actions: { type: 'array', items: S.str, minItems: 1 }, resources: S.arr(S.str), expiresInSeconds: { type: 'integer', minimum: 1 } }, ['name', 'actions']), response: created(S.obj({ token: S.str, ...(S.tokenInfo.properties as Record<string, JsonSchema>) }, ['token', 'id', 'name', 'scope', 'expiresAt'])), handler: reg.createToken },
  { method: 'GET', path: '/tokens/{tokenId}', action: 'GetToken', tag: 'tokens', summary: 'An admin token', response: ok(S.tokenInfo), handler: reg.getToken },
  { method: 'DELETE', path: '/tokens/{tokenId}', action: 'DeleteToken', tag: 'tokens', summary: 'Revoke an admin token at once', response: done(), handler: reg.deleteToken },
];

