// JSON Schema building blocks for the route table, and the shapes the admin API answers with.

import type { JsonSchema } from './route.js';

export const str: JsonSchema = { type: 'string' };
export const int: JsonSchema = { type: 'integer', minimum: 0 };
export const bool: JsonSchema = { type: 'boolean' };
/** An ISO 8601 timestamp. */
export const time: JsonSchema = { type: 'string', format: 'date-time' };
export const accountId: JsonSchema = { type: 'string', pattern: '^\\d{12}$' };

export function obj(properties: Record<string, JsonSchema>, required: string[] = [], extra = false): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: extra };
}

export function arr(items: JsonSchema): JsonSchema {
  return { type: 'array', items };
}

export function oneOf(...values: string[]): JsonSchema {
  return { type: 'string', enum: values };
}

/** `{ [key]: [items] }`: every list answers an object (room for paging fields later). */
export function list(key: string, items: JsonSchema, more: Record<string, JsonSchema> = {}): JsonSchema {
  return obj({ [key]: arr(items), ...more }, [key]);
}

export const usage = obj({ bytes: int, objects: int, stagedBytes: int }, ['bytes', 'objects', 'stagedBytes']);
export const quota = obj({ maxBytes: int, maxObjects: int });
export const qos = obj({ rps: int, upBps: int, downBps: int });

export const account = obj(
  { accountId, canonicalId: str, name: str, email: str, createdAt: time, root: bool, usage, quota, qos },
  ['accountId', 'canonicalId', 'name', 'createdAt'],
);

/** IAM's AccessKey / AccessKeyMetadata (the secret only when the key is created). */
export const accessKey = obj(
  { AccessKeyId: str, SecretAccessKey: str, Status: oneOf('Active', 'Inactive'), UserName: str, CreateDate: time },
  ['AccessKeyId', 'Status', 'CreateDate'],
);

export const user = obj({ UserName: str, UserId: str, Arn: str, Path: str, CreateDate: time }, ['UserName', 'UserId', 'Arn', 'Path', 'CreateDate']);
export const group = obj({ GroupName: str, GroupId: str, Arn: str, Path: str, CreateDate: time }, ['GroupName', 'GroupId', 'Arn', 'Path', 'CreateDate']);
export const managedPolicy = obj(
  {
    PolicyName: str, PolicyId: str, Arn: str, Path: str, DefaultVersionId: str, AttachmentCount: int, PermissionsBoundaryUsageCount: int,
    IsAttachable: bool, Description: str, CreateDate: time, UpdateDate: time,
  },
  ['PolicyName', 'PolicyId', 'Arn', 'Path', 'DefaultVersionId', 'AttachmentCount', 'CreateDate'],
);
export const role = obj(
  { RoleName: str, RoleId: str, Arn: str, Path: str, CreateDate: time, AssumeRolePolicyDocument: { type: 'object' }, Description: str, MaxSessionDuration: int, RoleLastUsed: obj({ LastUsedDate: time, Region: str }) },
  ['RoleName', 'RoleId', 'Arn', 'Path', 'CreateDate', 'AssumeRolePolicyDocument', 'MaxSessionDuration'],
);
export const attachedPolicy = obj({ PolicyName: str, PolicyArn: str }, ['PolicyName', 'PolicyArn']);

export const bucket = obj(
  {
    name: str, createdAt: time, region: str, owner: obj({ canonicalId: str, accountId: str, name: str }, ['canonicalId']),
    versioning: oneOf('Unversioned', 'Enabled', 'Suspended'), objectLock: bool, usage, quota,
    configurations: arr(str),
  },
  ['name', 'createdAt', 'region', 'owner', 'versioning', 'objectLock', 'usage'],
);

export const kmsKey = obj(
  { id: str, arn: str, alias: str, description: str, enabled: bool, createdAt: time, versions: arr(obj({ version: int, createdAt: time }, ['version'])) },
  ['id', 'arn', 'enabled', 'versions'],
);

export const tier = obj(
  { name: str, endpoint: str, bucket: str, prefix: str, region: str, accessKey: str, secretSealed: bool, archive: bool, storageClasses: arr(str), createdAt: time },
  ['name', 'endpoint', 'bucket', 'prefix', 'region', 'accessKey', 'secretSealed', 'archive', 'storageClasses'],
);

export const remote = obj(
  { name: str, endpoint: str, region: str, accessKey: str, secretSealed: bool, buckets: arr(str), createdAt: time },
  ['name', 'endpoint', 'region', 'accessKey', 'secretSealed', 'buckets'],
);

export const target = obj(
  { name: str, type: str, arn: str, endpoint: str, destination: str, exchange: str, format: oneOf('list', 'stream'), token: oneOf('(set)'), ca: oneOf('(set)'), createdAt: time },
  ['name', 'type', 'arn', 'endpoint'],
);

export const tokenScope = obj({ actions: arr(str), resources: arr(str) }, ['actions', 'resources']);
export const tokenInfo = obj({ id: str, name: str, scope: tokenScope, createdAt: time, expiresAt: time, createdBy: str, expired: bool }, ['id', 'name', 'scope', 'createdAt', 'expiresAt', 'createdBy']);

export const workKind = obj({ kind: str, depth: int, due: int, running: int, failing: int, lagMs: { type: 'number' }, maxAttempts: int }, ['kind', 'depth'], true);

export const errorBody = obj({ code: str, message: str, requestId: str }, ['code', 'message']);
