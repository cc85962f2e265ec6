// PostgreSQL implementation of IamStore. Same checks as the SQLite one, inside each write's
// transaction. Quotas and "still referenced" checks read several rows before writing, which rows
// locks alone cannot protect (a count has no row); IAM writes are rare, so every one of them
// (except the once-a-minute record of a key's last use) takes one cluster-wide advisory lock and
// they run one at a time across all nodes: a check and the write it guards can never interleave
// with another IAM write. Unique indexes on (account, lower(name)) back the name checks up.

import {
  IamStoreError,
  type AccessKey,
  type AccessKeyOwner,
  type AccessKeyStatus,
  type AccessKeyUse,
  type IamAccountSummary,
  type IamEntity,
  type IamEntityRef,
  type IamGroup,
  type IamInlinePolicy,
  type IamListQuery,
  type IamManagedPolicy,
  type IamOidcProvider,
  type IamPage,
  type IamPolicyVersion,
  type IamRole,
  type IamStore,
  type IamUser,
} from '../types.js';
import type { Db, Tx } from './db.js';

export interface AccessKeyRow {
  access_key_id: string;
  secret: string;
  user_id: string;
  created_at: number;
  iam_user_id: string | null;
  status: string;
  last_used_at: number | null;
  last_used_service: string | null;
  last_used_region: string | null;
}

export function toAccessKey(r: AccessKeyRow): AccessKey {
  const k: AccessKey = {
    accessKeyId: r.access_key_id,
    secretAccessKey: r.secret,
    userId: r.user_id,
    status: r.status === 'Inactive' ? 'Inactive' : 'Active',
    createdAt: r.created_at,
  };
  if (r.iam_user_id !== null) k.iamUserId = r.iam_user_id;
  if (r.last_used_at !== null) k.lastUsed = { at: r.last_used_at, service: r.last_used_service ?? 'N/A', region: r.last_used_region ?? 'N/A' };
  return k;
}

interface EntityRow {
  account_id: string;
  name: string;
  id: string;
  path: string;
  created_at: number;
}

interface RoleRow extends EntityRow {
  trust_policy: string;
  max_session_duration: number;
  description: string | null;
}

interface PolicyRow extends EntityRow {
  updated_at: number;
  description: string | null;
  default_version: string;
  next_version: number;
  attachments: number;
}

interface VersionRow {
  version_id: string;
  document: string;
  created_at: number;
  is_default: boolean;
}

interface OidcRow {
  account_id: string;
  url: string;
  client_ids: string;
  thumbprints: string;
  created_at: number;
}

function toOidc(r: OidcRow): IamOidcProvider {
  return { accountId: r.account_id, url: r.url, clientIds: JSON.parse(r.client_ids) as string[], thumbprints: JSON.parse(r.thumbprints) as string[], createdAt: r.created_at };
}

function toEntity(r: EntityRow): IamEntity {
  return { accountId: r.account_id, id: r.id, name: r.name, path: r.path, createdAt: r.created_at };
}

function toRole(r: RoleRow): IamRole {
  const role: IamRole = { ...toEntity(r), assumeRolePolicy: r.trust_policy, maxSessionDuration: r.max_session_duration };
  if (r.description !== null) role.description = r.description;
  return role;
}

function toPolicy(r: PolicyRow): IamManagedPolicy {
  const p: IamManagedPolicy = { ...toEntity(r), defaultVersionId: r.default_version, updatedAt: r.updated_at, attachmentCount: r.attachments };
  if (r.description !== null) p.description = r.description;
  return p;
}

function toVersion(r: VersionRow): IamPolicyVersion {
  return { versionId: r.version_id, document: r.document, isDefault: r.is_default, createdAt: r.created_at };
}

type Table = 'iam_users' | 'iam_groups' | 'iam_roles' | 'iam_policies';

const WHAT: Record<Table, string> = { iam_users: 'User', iam_groups: 'Group', iam_roles: 'Role', iam_policies: 'Policy' };

/** Policies with their attachment count, as every policy read returns them. */
const POLICY_SELECT = 'SELECT p.*, (SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_id = p.id) AS attachments FROM iam_policies p';

type Q = Db | Tx;

export class PgIamStore implements IamStore {
  constructor(private readonly db: Db) {}

  /** An IAM write: one at a time across the cluster (see the top of this file); tells the change feed. */
  private write<T>(fn: (t: Tx) => Promise<T>): Promise<T> {
    return this.db.tx(
      async (t) => {
        await t.lockDomain('iam');
        return fn(t);
      },
      { notify: true },
    );
  }

  // ---------------------------------------------------------------- shared by every entity table

  private async insertEntity(t: Tx, table: Table, e: IamEntity, extra: Record<string, string | number | null> = {}, maxPerAccount = Infinity): Promise<void> {
    if (await t.row(`SELECT 1 FROM ${table} WHERE account_id = $1 AND lower(name) = lower($2)`, [e.accountId, e.name])) {
      throw new IamStoreError('EntityAlreadyExists', table === 'iam_policies' ? `A policy called ${e.name} already exists. Duplicate names are not allowed.` : `${WHAT[table]} with name ${e.name} already exists.`);
    }
    if (maxPerAccount !== Infinity && (await this.countOf(t, table, e.accountId)) >= maxPerAccount) {
      throw new IamStoreError('LimitExceeded', `Cannot exceed quota for ${table === 'iam_policies' ? 'Policies' : `${WHAT[table]}s`}PerAccount: ${maxPerAccount}`);
    }
    const cols = ['account_id', 'name', 'id', 'path', 'created_at', ...Object.keys(extra)];
    await t.run(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, [e.accountId, e.name, e.id, e.path, e.createdAt, ...Object.values(extra)]);
  }

  private async countOf(q: Q, table: Table, accountId: string): Promise<number> {
    return (await q.row<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = $1`, [accountId]))!.n;
  }

  private byName<R extends object>(q: Q, table: Table, accountId: string, name: string): Promise<R | undefined> {
    const sql =
      table === 'iam_policies' ? `${POLICY_SELECT} WHERE p.account_id = $1 AND lower(p.name) = lower($2)` : `SELECT * FROM ${table} WHERE account_id = $1 AND lower(name) = lower($2)`;
    return q.row<R & object>(sql, [accountId, name]) as Promise<R | undefined>;
  }

  /** One page of an account's entities by name (case-insensitive order), optionally under a path prefix. */
  private list<R extends object>(table: Table, accountId: string, q: IamListQuery, extraWhere = ''): Promise<R[]> {
    const select = table === 'iam_policies' ? POLICY_SELECT : `SELECT * FROM ${table} p`;
    return this.db.rows<R & object>(`${select} WHERE p.account_id = $1 AND starts_with(p.path, $2) AND lower(p.name) > lower($3)${extraWhere} ORDER BY lower(p.name) LIMIT $4`, [
      accountId,
      q.pathPrefix ?? '/',
      q.after ?? '',
      q.limit,
    ]) as Promise<R[]>;
  }

  private async mustExist(t: Tx, table: Table, id: string): Promise<void> {
    if (!(await t.row(`SELECT 1 FROM ${table} WHERE id = $1`, [id]))) throw new IamStoreError('NoSuchEntity', `The ${WHAT[table].toLowerCase()} cannot be found.`);
  }

  /** DeleteConflict if the user, group or role still has inline or attached policies. */
  private async checkNoPolicies(t: Tx, id: string): Promise<void> {
    if (await t.row('SELECT 1 FROM iam_inline_policies WHERE entity_id = $1 LIMIT 1', [id])) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
    if (await t.row('SELECT 1 FROM iam_attachments WHERE entity_id = $1 LIMIT 1', [id])) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
  }

  // ---------------------------------------------------------------- users

  createUser(user: IamUser, maxPerAccount?: number): Promise<void> {
    return this.write((t) => this.insertEntity(t, 'iam_users', user, {}, maxPerAccount));
  }

  async getUser(accountId: string, name: string): Promise<IamUser | undefined> {
    const r = await this.byName<EntityRow>(this.db, 'iam_users', accountId, name);
    return r && toEntity(r);
  }

  async getUserById(id: string): Promise<IamUser | undefined> {
    const r = await this.db.row<EntityRow>('SELECT * FROM iam_users WHERE id = $1', [id]);
    return r && toEntity(r);
  }

  /** Renames and/or moves a user or group, which everything else refers to by id. */
  private async rename(t: Tx, table: 'iam_users' | 'iam_groups', id: string, change: { name?: string; path?: string }): Promise<void> {
    const r = await t.row<EntityRow>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
    if (!r) throw new IamStoreError('NoSuchEntity', `The ${WHAT[table].toLowerCase()} cannot be found.`);
    const name = change.name ?? r.name;
    const other = await this.byName<EntityRow>(t, table, r.account_id, name);
    if (other && other.id !== id) throw new IamStoreError('EntityAlreadyExists', `${WHAT[table]} with name ${name} already exists.`);
    await t.run(`UPDATE ${table} SET name = $1, path = $2 WHERE id = $3`, [name, change.path ?? r.path, id]);
  }

  updateUser(id: string, change: { name?: string; path?: string }): Promise<void> {
    return this.write((t) => this.rename(t, 'iam_users', id, change));
  }

  deleteUser(id: string): Promise<void> {
    return this.write(async (t) => {
      await this.mustExist(t, 'iam_users', id);
      if (await t.row('SELECT 1 FROM access_keys WHERE iam_user_id = $1 LIMIT 1', [id])) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
      await this.checkNoPolicies(t, id);
      if (await t.row('SELECT 1 FROM iam_group_members WHERE user_id = $1 LIMIT 1', [id])) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must remove user from all groups first.');
      await t.run('DELETE FROM iam_users WHERE id = $1', [id]);
    });
  }

  async listUsers(accountId: string, q: IamListQuery): Promise<IamUser[]> {
    return (await this.list<EntityRow>('iam_users', accountId, q)).map(toEntity);
  }

  // ---------------------------------------------------------------- groups

  createGroup(group: IamGroup, maxPerAccount?: number): Promise<void> {
    return this.write((t) => this.insertEntity(t, 'iam_groups', group, {}, maxPerAccount));
  }

  async getGroup(accountId: string, name: string): Promise<IamGroup | undefined> {
    const r = await this.byName<EntityRow>(this.db, 'iam_groups', accountId, name);
    return r && toEntity(r);
  }

  updateGroup(id: string, change: { name?: string; path?: string }): Promise<void> {
    return this.write((t) => this.rename(t, 'iam_groups', id, change));
  }

  deleteGroup(id: string): Promise<void> {
    return this.write(async (t) => {
      await this.mustExist(t, 'iam_groups', id);
      if (await t.row('SELECT 1 FROM iam_group_members WHERE group_id = $1 LIMIT 1', [id])) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
      await this.checkNoPolicies(t, id);
      await t.run('DELETE FROM iam_groups WHERE id = $1', [id]);
    });
  }

  async listGroups(accountId: string, q: IamListQuery): Promise<IamGroup[]> {
    return (await this.list<EntityRow>('iam_groups', accountId, q)).map(toEntity);
  }

  addUserToGroup(groupId: string, userId: string, maxGroupsPerUser: number): Promise<void> {
    return this.write(async (t) => {
      await this.mustExist(t, 'iam_groups', groupId);
      await this.mustExist(t, 'iam_users', userId);
      if (await t.row('SELECT 1 FROM iam_group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) return;
      const { n } = (await t.row<{ n: number }>('SELECT COUNT(*) AS n FROM iam_group_members WHERE user_id = $1', [userId]))!;
      if (n >= maxGroupsPerUser) throw new IamStoreError('LimitExceeded', `Cannot exceed quota for GroupsPerUser: ${maxGroupsPerUser}`);
      await t.run('INSERT INTO iam_group_members (group_id, user_id) VALUES ($1, $2)', [groupId, userId]);
    });
  }

  removeUserFromGroup(groupId: string, userId: string): Promise<void> {
    return this.write(async (t) => {
      if ((await t.run('DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2', [groupId, userId])) === 0) {
        throw new IamStoreError('NoSuchEntity', 'The user is not a member of the group.');
      }
    });
  }

  async listGroupMembers(groupId: string, q: IamPage): Promise<IamUser[]> {
    return (
      await this.db.rows<EntityRow>(
        'SELECT u.* FROM iam_group_members m JOIN iam_users u ON u.id = m.user_id WHERE m.group_id = $1 AND lower(u.name) > lower($2) ORDER BY lower(u.name) LIMIT $3',
        [groupId, q.after ?? '', q.limit],
      )
    ).map(toEntity);
  }

  async listGroupsOfUser(userId: string, q: IamPage): Promise<IamGroup[]> {
    return (
      await this.db.rows<EntityRow>(
        'SELECT g.* FROM iam_group_members m JOIN iam_groups g ON g.id = m.group_id WHERE m.user_id = $1 AND lower(g.name) > lower($2) ORDER BY lower(g.name) LIMIT $3',
        [userId, q.after ?? '', q.limit],
      )
    ).map(toEntity);
  }

  // ---------------------------------------------------------------- roles

  createRole(role: IamRole, maxPerAccount?: number): Promise<void> {
    return this.write((t) =>
      this.insertEntity(t, 'iam_roles', role, { trust_policy: role.assumeRolePolicy, max_session_duration: role.maxSessionDuration, description: role.description ?? null }, maxPerAccount),
    );
  }

  async getRole(accountId: string, name: string): Promise<IamRole | undefined> {
    const r = await this.byName<RoleRow>(this.db, 'iam_roles', accountId, name);
    return r && toRole(r);
  }

  async getRoleById(id: string): Promise<IamRole | undefined> {
    const r = await this.db.row<RoleRow>('SELECT * FROM iam_roles WHERE id = $1', [id]);
    return r && toRole(r);
  }

  updateRole(id: string, change: { description?: string; maxSessionDuration?: number; assumeRolePolicy?: string }): Promise<void> {
    return this.write(async (t) => {
      const r = await t.row<RoleRow>('SELECT * FROM iam_roles WHERE id = $1', [id]);
      if (!r) throw new IamStoreError('NoSuchEntity', 'The role cannot be found.');
      await t.run('UPDATE iam_roles SET description = $1, max_session_duration = $2, trust_policy = $3 WHERE id = $4', [
        change.description ?? r.description,
        change.maxSessionDuration ?? r.max_session_duration,
        change.assumeRolePolicy ?? r.trust_policy,
        id,
      ]);
    });
  }

  deleteRole(id: string): Promise<void> {
    return this.write(async (t) => {
      await this.mustExist(t, 'iam_roles', id);
      await this.checkNoPolicies(t, id);
      await t.run('DELETE FROM iam_roles WHERE id = $1', [id]);
    });
  }

  async listRoles(accountId: string, q: IamListQuery): Promise<IamRole[]> {
    return (await this.list<RoleRow>('iam_roles', accountId, q)).map(toRole);
  }

  // ---------------------------------------------------------------- inline policies

  private entityTable(kind: IamEntityRef['kind']): Table {
    return kind === 'user' ? 'iam_users' : kind === 'group' ? 'iam_groups' : 'iam_roles';
  }

  putInlinePolicy(owner: IamEntityRef, name: string, document: string): Promise<void> {
    return this.write(async (t) => {
      await this.mustExist(t, this.entityTable(owner.kind), owner.id);
      await t.run('INSERT INTO iam_inline_policies (entity_id, name, document) VALUES ($1, $2, $3) ON CONFLICT (entity_id, name) DO UPDATE SET document = excluded.document', [
        owner.id,
        name,
        document,
      ]);
    });
  }

  async getInlinePolicy(ownerId: string, name: string): Promise<string | undefined> {
    return (await this.db.row<{ document: string }>('SELECT document FROM iam_inline_policies WHERE entity_id = $1 AND name = $2', [ownerId, name]))?.document;
  }

  deleteInlinePolicy(ownerId: string, name: string): Promise<void> {
    return this.write(async (t) => {
      if ((await t.run('DELETE FROM iam_inline_policies WHERE entity_id = $1 AND name = $2', [ownerId, name])) === 0) {
        throw new IamStoreError('NoSuchEntity', `The policy with name ${name} cannot be found.`);
      }
    });
  }

  listInlinePolicies(ownerId: string, q: IamPage): Promise<IamInlinePolicy[]> {
    return this.db.rows<IamInlinePolicy & { name: string }>('SELECT name, document FROM iam_inline_policies WHERE entity_id = $1 AND name > $2 ORDER BY name LIMIT $3', [
      ownerId,
      q.after ?? '',
      q.limit,
    ]);
  }

  // ---------------------------------------------------------------- managed policies

  private async policyRow(q: Q, id: string): Promise<PolicyRow> {
    const r = await q.row<PolicyRow>(`${POLICY_SELECT} WHERE p.id = $1`, [id]);
    if (!r) throw new IamStoreError('NoSuchEntity', 'The policy cannot be found.');
    return r;
  }

  createPolicy(policy: Omit<IamManagedPolicy, 'defaultVersionId' | 'attachmentCount' | 'updatedAt'>, document: string, maxPerAccount?: number): Promise<IamManagedPolicy> {
    return this.write(async (t) => {
      await this.insertEntity(t, 'iam_policies', policy, { updated_at: policy.createdAt, description: policy.description ?? null, default_version: 'v1', next_version: 2 }, maxPerAccount);
      await t.run('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)', [policy.id, 'v1', document, policy.createdAt]);
      return toPolicy(await this.policyRow(t, policy.id));
    });
  }

  async getPolicy(accountId: string, name: string): Promise<IamManagedPolicy | undefined> {
    const r = await this.byName<PolicyRow>(this.db, 'iam_policies', accountId, name);
    return r && toPolicy(r);
  }

  async defaultPolicyDocument(policyId: string): Promise<string | undefined> {
    const r = await this.db.row<{ document: string }>(
      'SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.id AND v.version_id = p.default_version WHERE p.id = $1',
      [policyId],
    );
    return r?.document;
  }

  deletePolicy(id: string): Promise<void> {
    return this.write(async (t) => {
      const p = await this.policyRow(t, id);
      if (p.attachments > 0) throw new IamStoreError('DeleteConflict', 'Cannot delete a policy attached to entities.');
      const { n } = (await t.row<{ n: number }>('SELECT COUNT(*) AS n FROM iam_policy_versions WHERE policy_id = $1', [id]))!;
      if (n > 1) throw new IamStoreError('DeleteConflict', "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
      await t.run('DELETE FROM iam_policy_versions WHERE policy_id = $1', [id]);
      await t.run('DELETE FROM iam_policies WHERE id = $1', [id]);
    });
  }

  async listPolicies(accountId: string, q: IamListQuery & { onlyAttached?: boolean }): Promise<IamManagedPolicy[]> {
    return (await this.list<PolicyRow>('iam_policies', accountId, q, q.onlyAttached ? ' AND EXISTS (SELECT 1 FROM iam_attachments a WHERE a.policy_id = p.id)' : '')).map(toPolicy);
  }

  createPolicyVersion(policyId: string, document: string, setAsDefault: boolean, now: number, maxVersions: number): Promise<IamPolicyVersion> {
    return this.write(async (t) => {
      const p = await this.policyRow(t, policyId);
      const { n } = (await t.row<{ n: number }>('SELECT COUNT(*) AS n FROM iam_policy_versions WHERE policy_id = $1', [policyId]))!;
      if (n >= maxVersions) {
        throw new IamStoreError('LimitExceeded', `A managed policy can have up to ${maxVersions} versions. Before you create a new version, you must delete an existing version.`);
      }
      const versionId = `v${p.next_version}`;
      await t.run('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)', [policyId, versionId, document, now]);
      await t.run('UPDATE iam_policies SET next_version = $1, updated_at = $2, default_version = $3 WHERE id = $4', [
        p.next_version + 1,
        now,
        setAsDefault ? versionId : p.default_version,
        policyId,
      ]);
      return { versionId, document, isDefault: setAsDefault, createdAt: now };
    });
  }

  async getPolicyVersion(policyId: string, versionId: string): Promise<IamPolicyVersion | undefined> {
    const r = await this.db.row<VersionRow>(
      'SELECT v.version_id, v.document, v.created_at, v.version_id = p.default_version AS is_default FROM iam_policy_versions v JOIN iam_policies p ON p.id = v.policy_id WHERE v.policy_id = $1 AND v.version_id = $2',
      [policyId, versionId],
    );
    return r && toVersion(r);
  }

  deletePolicyVersion(policyId: string, versionId: string): Promise<void> {
    return this.write(async (t) => {
      const p = await this.policyRow(t, policyId);
      if (p.default_version === versionId) throw new IamStoreError('DeleteConflict', 'Cannot delete the default version of a policy.');
      if ((await t.run('DELETE FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2', [policyId, versionId])) === 0) {
        throw new IamStoreError('NoSuchEntity', `Policy version ${versionId} does not exist.`);
      }
    });
  }

  async listPolicyVersions(policyId: string): Promise<IamPolicyVersion[]> {
    return (
      await this.db.rows<VersionRow>(
        `SELECT v.version_id, v.document, v.created_at, v.version_id = p.default_version AS is_default FROM iam_policy_versions v JOIN iam_policies p ON p.id = v.policy_id
         WHERE v.policy_id = $1 ORDER BY substr(v.version_id, 2)::integer`, // v10 after v9
        [policyId],
      )
    ).map(toVersion);
  }

  setDefaultPolicyVersion(policyId: string, versionId: string, now: number): Promise<void> {
    return this.write(async (t) => {
      await this.policyRow(t, policyId);
      if (!(await t.row('SELECT 1 FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2', [policyId, versionId]))) {
        throw new IamStoreError('NoSuchEntity', `Policy version ${versionId} does not exist.`);
      }
      await t.run('UPDATE iam_policies SET default_version = $1, updated_at = $2 WHERE id = $3', [versionId, now, policyId]);
    });
  }

  attachPolicy(entity: IamEntityRef, policyId: string, maxAttached: number, awsManaged = false): Promise<void> {
    return this.write(async (t) => {
      await this.mustExist(t, this.entityTable(entity.kind), entity.id);
      if (!awsManaged) await this.policyRow(t, policyId);
      if (await t.row('SELECT 1 FROM iam_attachments WHERE entity_id = $1 AND policy_id = $2', [entity.id, policyId])) return;
      const { n } = (await t.row<{ n: number }>('SELECT COUNT(*) AS n FROM iam_attachments WHERE entity_id = $1', [entity.id]))!;
      if (n >= maxAttached) {
        const quota = entity.kind === 'user' ? 'PoliciesPerUser' : entity.kind === 'group' ? 'PoliciesPerGroup' : 'PoliciesPerRole';
        throw new IamStoreError('LimitExceeded', `Cannot exceed quota for ${quota}: ${maxAttached}`);
      }
      await t.run('INSERT INTO iam_attachments (entity_id, policy_id, entity_kind) VALUES ($1, $2, $3)', [entity.id, policyId, entity.kind]);
    });
  }

  detachPolicy(entityId: string, policyId: string): Promise<void> {
    return this.write(async (t) => {
      if ((await t.run('DELETE FROM iam_attachments WHERE entity_id = $1 AND policy_id = $2', [entityId, policyId])) === 0) {
        throw new IamStoreError('NoSuchEntity', 'The policy is not attached.');
      }
    });
  }

  async listAttachedPolicies(entityId: string, q: IamListQuery): Promise<IamManagedPolicy[]> {
    return (
      await this.db.rows<PolicyRow>(
        `${POLICY_SELECT} JOIN iam_attachments x ON x.policy_id = p.id WHERE x.entity_id = $1 AND starts_with(p.path, $2) AND lower(p.name) > lower($3) ORDER BY lower(p.name) LIMIT $4`,
        [entityId, q.pathPrefix ?? '/', q.after ?? '', q.limit],
      )
    ).map(toPolicy);
  }

  async attachedPolicyIds(entityId: string): Promise<string[]> {
    return (await this.db.rows<{ policy_id: string }>('SELECT policy_id FROM iam_attachments WHERE entity_id = $1 ORDER BY policy_id', [entityId])).map((r) => r.policy_id);
  }

  async countPolicyAttachments(policyId: string, accountId: string): Promise<number> {
    const { n } = (await this.db.row<{ n: number }>(
      `SELECT COUNT(*) AS n FROM iam_attachments a WHERE a.policy_id = $1 AND (
         EXISTS (SELECT 1 FROM iam_users u WHERE u.id = a.entity_id AND u.account_id = $2) OR
         EXISTS (SELECT 1 FROM iam_groups g WHERE g.id = a.entity_id AND g.account_id = $2) OR
         EXISTS (SELECT 1 FROM iam_roles r WHERE r.id = a.entity_id AND r.account_id = $2))`,
      [policyId, accountId],
    ))!;
    return n;
  }

  // ---------------------------------------------------------------- OpenID Connect providers

  createOidcProvider(p: IamOidcProvider, maxPerAccount: number): Promise<void> {
    return this.write(async (t) => {
      if (await t.row('SELECT 1 FROM iam_oidc_providers WHERE account_id = $1 AND url = $2', [p.accountId, p.url])) {
        throw new IamStoreError('EntityAlreadyExists', `Provider with url https://${p.url} already exists.`);
      }
      const { n } = (await t.row<{ n: number }>('SELECT COUNT(*) AS n FROM iam_oidc_providers WHERE account_id = $1', [p.accountId]))!;
      if (n >= maxPerAccount) throw new IamStoreError('LimitExceeded', `Cannot exceed quota for OpenIdConnectProvidersPerAccount: ${maxPerAccount}`);
      await t.run('INSERT INTO iam_oidc_providers (account_id, url, client_ids, thumbprints, created_at) VALUES ($1, $2, $3, $4, $5)', [
        p.accountId,
        p.url,
        JSON.stringify(p.clientIds),
        JSON.stringify(p.thumbprints),
        p.createdAt,
      ]);
    });
  }

  async getOidcProvider(accountId: string, url: string): Promise<IamOidcProvider | undefined> {
    const r = await this.db.row<OidcRow>('SELECT * FROM iam_oidc_providers WHERE account_id = $1 AND url = $2', [accountId, url]);
    return r && toOidc(r);
  }

  async listOidcProviders(accountId: string): Promise<IamOidcProvider[]> {
    return (await this.db.rows<OidcRow>('SELECT * FROM iam_oidc_providers WHERE account_id = $1 ORDER BY url', [accountId])).map(toOidc);
  }

  updateOidcProvider(accountId: string, url: string, update: (p: IamOidcProvider) => { clientIds?: string[]; thumbprints?: string[] }): Promise<void> {
    return this.write(async (t) => {
      const r = await t.row<OidcRow>('SELECT * FROM iam_oidc_providers WHERE account_id = $1 AND url = $2', [accountId, url]);
      if (!r) throw new IamStoreError('NoSuchEntity', 'The OpenID Connect provider cannot be found.');
      const current = toOidc(r);
      const change = update(current);
      await t.run('UPDATE iam_oidc_providers SET client_ids = $1, thumbprints = $2 WHERE account_id = $3 AND url = $4', [
        JSON.stringify(change.clientIds ?? current.clientIds),
        JSON.stringify(change.thumbprints ?? current.thumbprints),
        accountId,
        url,
      ]);
    });
  }

  deleteOidcProvider(accountId: string, url: string): Promise<boolean> {
    return this.write(async (t) => (await t.run('DELETE FROM iam_oidc_providers WHERE account_id = $1 AND url = $2', [accountId, url])) > 0);
  }

  // ---------------------------------------------------------------- access keys

  private keysOf(owner: AccessKeyOwner): { where: string; arg: string } {
    return 'root' in owner ? { where: 'user_id = $1 AND iam_user_id IS NULL', arg: owner.root } : { where: 'iam_user_id = $1', arg: owner.iamUserId };
  }

  createAccessKey(key: AccessKey, maxPerOwner: number): Promise<void> {
    return this.write(async (t) => {
      if (key.iamUserId !== undefined) await this.mustExist(t, 'iam_users', key.iamUserId);
      const owner = this.keysOf(key.iamUserId !== undefined ? { iamUserId: key.iamUserId } : { root: key.userId });
      const { n } = (await t.row<{ n: number }>(`SELECT COUNT(*) AS n FROM access_keys WHERE ${owner.where}`, [owner.arg]))!;
      if (n >= maxPerOwner) throw new IamStoreError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${maxPerOwner}`);
      await t.run('INSERT INTO access_keys (access_key_id, secret, user_id, created_at, iam_user_id, status) VALUES ($1, $2, $3, $4, $5, $6)', [
        key.accessKeyId,
        key.secretAccessKey,
        key.userId,
        key.createdAt,
        key.iamUserId ?? null,
        key.status ?? 'Active',
      ]);
    });
  }

  async listAccessKeys(owner: AccessKeyOwner, q: { after?: string; limit: number }): Promise<AccessKey[]> {
    const o = this.keysOf(owner);
    return (await this.db.rows<AccessKeyRow>(`SELECT * FROM access_keys WHERE ${o.where} AND access_key_id > $2 ORDER BY access_key_id LIMIT $3`, [o.arg, q.after ?? '', q.limit])).map(
      toAccessKey,
    );
  }

  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    return this.write(async (t) => {
      if ((await t.run('UPDATE access_keys SET status = $1 WHERE access_key_id = $2', [status, accessKeyId])) === 0) {
        throw new IamStoreError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
      }
    });
  }

  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.write(async (t) => {
      if ((await t.run('DELETE FROM access_keys WHERE access_key_id = $1', [accessKeyId])) === 0) {
        throw new IamStoreError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
      }
    });
  }

  /** One UPDATE of one row: needs no IAM lock. */
  async recordAccessKeyUse(accessKeyId: string, use: AccessKeyUse): Promise<void> {
    await this.db.tx((t) =>
      t.run('UPDATE access_keys SET last_used_at = $1, last_used_service = $2, last_used_region = $3 WHERE access_key_id = $4', [use.at, use.service, use.region, accessKeyId]),
    );
  }

  // ---------------------------------------------------------------- the account as a whole

  async accountSummary(accountId: string, rootId: string): Promise<IamAccountSummary> {
    const r = (await this.db.row<IamAccountSummary>(
      `SELECT (SELECT COUNT(*) FROM iam_users WHERE account_id = $1) AS users,
              (SELECT COUNT(*) FROM iam_groups WHERE account_id = $1) AS groups,
              (SELECT COUNT(*) FROM iam_roles WHERE account_id = $1) AS roles,
              (SELECT COUNT(*) FROM iam_policies WHERE account_id = $1) AS policies,
              (SELECT COUNT(*) FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.id WHERE p.account_id = $1) AS "policyVersions",
              (SELECT COUNT(*) FROM iam_oidc_providers WHERE account_id = $1) AS "oidcProviders",
              (SELECT COUNT(*) FROM access_keys WHERE user_id = $2 AND iam_user_id IS NULL) AS "rootAccessKeys"`,
      [accountId, rootId],
    ))!;
    return { ...r };
  }

  // ---------------------------------------------------------------- evaluation

  async identityPolicyDocuments(entityId: string, otherDocument: (policyId: string) => string | undefined): Promise<string[]> {
    // The user (or role) and its groups (a role has none); for each, inline documents and
    // attached policies' default versions, in one round trip. An attachment without a policy
    // row is of an AWS managed policy, resolved by the caller.
    const rows = await this.db.rows<{ owner_rank: number; kind: number; sort: string; policy_id: string | null; document: string | null }>(
      `WITH owners AS (
         SELECT $1::text AS id, 0 AS rank
         UNION ALL
         SELECT group_id, row_number() OVER (ORDER BY group_id) FROM iam_group_members WHERE user_id = $1
       )
       SELECT o.rank AS owner_rank, 0 AS kind, i.name COLLATE "C" AS sort, NULL AS policy_id, i.document
         FROM owners o JOIN iam_inline_policies i ON i.entity_id = o.id
       UNION ALL
       SELECT o.rank, 1, a.policy_id COLLATE "C", a.policy_id, v.document
         FROM owners o JOIN iam_attachments a ON a.entity_id = o.id
         LEFT JOIN iam_policies p ON p.id = a.policy_id
         LEFT JOIN iam_policy_versions v ON v.policy_id = p.id AND v.version_id = p.default_version
       ORDER BY 1, 2, 3`,
      [entityId],
    );
    const out: string[] = [];
    for (const r of rows) {
      const document = r.document ?? (r.policy_id !== null ? otherDocument(r.policy_id) : undefined);
      if (document !== undefined) out.push(document);
    }
    return out;
  }
}
