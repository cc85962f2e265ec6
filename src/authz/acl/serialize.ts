// The stored form of an ACL (the store keeps it as an opaque string per bucket / object version).
//
//   {"v":1,"o":["<owner id>","<display name>"?],"g":[["READ","u","<id>","<display name>"?],["READ","g","<uri>"],["READ","e","<email>"]]}
//
// Compact (one is kept per object version) and stable: the same ACL always gives the same
// string, so writers can compare records. Grant order is kept: S3 lists grants as they were set.

import { isGroupUri, isPermission, type Acl, type AclOwner, type Grant, type Grantee } from './types.js';

const VERSION = 1;

type OwnerRecord = [id: string, displayName?: string];
type GrantRecord = [permission: string, kind: 'u' | 'g' | 'e', value: string, displayName?: string];

function ownerRecord(o: AclOwner): OwnerRecord {
  return o.displayName === undefined ? [o.id] : [o.id, o.displayName];
}

function grantRecord(g: Grant): GrantRecord {
  const p = g.permission;
  const e = g.grantee;
  switch (e.type) {
    case 'CanonicalUser':
      return e.displayName === undefined ? [p, 'u', e.id] : [p, 'u', e.id, e.displayName];
    case 'Group':
      return [p, 'g', e.uri];
    case 'AmazonCustomerByEmail':
      return [p, 'e', e.email];
  }
}

export function serializeAcl(acl: Acl): string {
  return JSON.stringify({ v: VERSION, o: ownerRecord(acl.owner), g: acl.grants.map(grantRecord) });
}

/** A stored ACL that cannot be read: the record is damaged or from a newer version. */
export class CorruptAclError extends Error {
  constructor(reason: string) {
    super(`stored ACL unreadable: ${reason}`);
    this.name = 'CorruptAclError';
  }
}

const isString = (x: unknown): x is string => typeof x === 'string';

function readOwner(x: unknown): AclOwner {
  if (!Array.isArray(x) || x.length < 1 || x.length > 2 || !x.every(isString)) throw new CorruptAclError('owner');
  const [id, displayName] = x as OwnerRecord;
  return displayName === undefined ? { id } : { id, displayName };
}

function readGrant(x: unknown): Grant {
  if (!Array.isArray(x) || x.length < 3 || x.length > 4 || !x.every(isString)) throw new CorruptAclError('grant');
  const [permission, kind, value, displayName] = x as GrantRecord;
  if (!isPermission(permission)) throw new CorruptAclError(`permission ${permission}`);
  let grantee: Grantee;
  if (kind === 'u') grantee = displayName === undefined ? { type: 'CanonicalUser', id: value } : { type: 'CanonicalUser', id: value, displayName };
  else if (kind === 'g' && isGroupUri(value) && displayName === undefined) grantee = { type: 'Group', uri: value };
  else if (kind === 'e' && displayName === undefined) grantee = { type: 'AmazonCustomerByEmail', email: value };
  else throw new CorruptAclError(`grantee ${kind}`);
  return { grantee, permission };
}

/** Reads what serializeAcl wrote; CorruptAclError for anything else. */
export function deserializeAcl(s: string): Acl {
  let j: unknown;
  try {
    j = JSON.parse(s);
  } catch {
    throw new CorruptAclError('not JSON');
  }
  if (typeof j !== 'object' || j === null) throw new CorruptAclError('not an object');
  const r = j as { v?: unknown; o?: unknown; g?: unknown };
  if (r.v !== VERSION) throw new CorruptAclError(`version ${String(r.v)}`);
  if (!Array.isArray(r.g)) throw new CorruptAclError('grants');
  return { owner: readOwner(r.o), grants: r.g.map(readGrant) };
}
