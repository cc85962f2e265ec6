// SQLite implementation of IamStore: IAM users, groups, roles, managed and inline policies and
// access-key management, on the connection and group commit of SqliteMetaStore (schema.ts holds
// the schema). Every invariant that concurrent writers could break — a name taken, a quota, an
// entity still referenced — is checked inside the write's transaction.

import type Database from 'better-sqlite3';
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

/** How SqliteMetaStore lets IAM run its statements: reads after the sync in progress, writes in the group commit. */
export interface IamTransactions {
  read<T>(fn: () => T): Promise<T>;
  write<T>(fn: () => T): Promise<T>;
}

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
  is_default: number;
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
  return { versionId: r.version_id, document: r.document, isDefault: r.is_default === 1, createdAt: r.created_at };
}

type Table = 'iam_users' | 'iam_groups' | 'iam_roles' | 'iam_policies';

const WHAT: Record<Table, string> = { iam_users: 'User', iam_groups: 'Group', iam_roles: 'Role', iam_policies: 'Policy' };

/** Policies with their attachment count, as every policy read returns them. */
const POLICY_SELECT = 'SELECT p.*, (SELECT COUNT(*) FROM iam_attachments a WHERE a.policy_id = p.id) AS attachments FROM iam_policies p';

export class SqliteIamStore implements IamStore {
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(
    private readonly db: Database.Database,
    private readonly tx: IamTransactions,
  ) {}

  /** Statements are prepared once, on first use. */
  private q(sql: string): Database.Statement {
    let st = this.stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.stmts.set(sql, st);
    }
    return st;
  }

  // ---------------------------------------------------------------- shared by every entity table

  private insertEntity(table: Table, e: IamEntity, extra: Record<string, string | number | null> = {}, maxPerAccount = Infinity): void {
    if (this.q(`SELECT 1 FROM ${table} WHERE account_id = ? AND name = ?`).get(e.accountId, e.name)) {
      throw new IamStoreError('EntityAlreadyExists', table === 'iam_policies' ? `A policy called ${e.name} already exists. Duplicate names are not allowed.` : `${WHAT[table]} with name ${e.name} already exists.`);
    }
    if (maxPerAccount !== Infinity && this.countOf(table, e.accountId) >= maxPerAccount) {
      throw new IamStoreError('LimitExceeded', `Cannot exceed quota for ${table === 'iam_policies' ? 'Policies' : `${WHAT[table]}s`}PerAccount: ${maxPerAccount}`);
    }
    const cols = ['account_id', 'name', 'id', 'path', 'created_at', ...Object.keys(extra)];
    this.q(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(e.accountId, e.name, e.id, e.path, e.createdAt, ...Object.values(extra));
  }

  private countOf(table: Table, accountId: string): number {
    return (this.q(`SELECT COUNT(*) AS n FROM ${table} WHERE account_id = ?`).get(accountId) as { n: number }).n;
  }

  private byName<R>(table: Table, accountId: string, name: string): R | undefined {
    const sql = table === 'iam_policies' ? `${POLICY_SELECT} WHERE p.account_id = ? AND p.name = ?` : `SELECT * FROM ${table} WHERE account_id = ? AND name = ?`;
    return this.q(sql).get(accountId, name) as R | undefined;
  }

  /** One page of an account's entities by name, optionally under a path prefix. */
  private list<R>(table: Table, accountId: string, q: IamListQuery, extraWhere = ''): R[] {
    const prefix = q.pathPrefix ?? '/';
    const select = table === 'iam_policies' ? POLICY_SELECT : `SELECT * FROM ${table} p`;
    return this.q(`${select} WHERE p.account_id = ? AND substr(p.path, 1, ?) = ? AND p.name > ?${extraWhere} ORDER BY p.name LIMIT ?`).all(
      accountId,
      prefix.length,
      prefix,
      q.after ?? '',
      q.limit,
    ) as R[];
  }

  private exists(table: Table, id: string): boolean {
    return this.q(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) !== undefined;
  }

  private mustExist(table: Table, id: string): void {
    if (!this.exists(table, id)) throw new IamStoreError('NoSuchEntity', `The ${WHAT[table].toLowerCase()} cannot be found.`);
  }

  /** DeleteConflict if the user, group or role still has inline or attached policies. */
  private checkNoPolicies(id: string): void {
    if (this.q('SELECT 1 FROM iam_inline_policies WHERE entity_id = ? LIMIT 1').get(id)) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
    if (this.q('SELECT 1 FROM iam_attachments WHERE entity_id = ? LIMIT 1').get(id)) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
  }

  // ---------------------------------------------------------------- users

  createUser(user: IamUser, maxPerAccount?: number): Promise<void> {
    return this.tx.write(() => this.insertEntity('iam_users', user, {}, maxPerAccount));
  }

  getUser(accountId: string, name: string): Promise<IamUser | undefined> {
    return this.tx.read(() => {
      const r = this.byName<EntityRow>('iam_users', accountId, name);
      return r && toEntity(r);
    });
  }

  getUserById(id: string): Promise<IamUser | undefined> {
    return this.tx.read(() => {
      const r = this.q('SELECT * FROM iam_users WHERE id = ?').get(id) as EntityRow | undefined;
      return r && toEntity(r);
    });
  }

  /** Renames and/or moves a user or group, which everything else refers to by id. */
  private rename(table: 'iam_users' | 'iam_groups', id: string, change: { name?: string; path?: string }): void {
    const r = this.q(`SELECT * FROM ${table} WHERE id = ?`).get(id) as EntityRow | undefined;
    if (!r) throw new IamStoreError('NoSuchEntity', `The ${WHAT[table].toLowerCase()} cannot be found.`);
    const name = change.name ?? r.name;
    const other = this.byName<EntityRow>(table, r.account_id, name);
    if (other && other.id !== id) throw new IamStoreError('EntityAlreadyExists', `${WHAT[table]} with name ${name} already exists.`);
    this.q(`UPDATE ${table} SET name = ?, path = ? WHERE id = ?`).run(name, change.path ?? r.path, id);
  }

  updateUser(id: string, change: { name?: string; path?: string }): Promise<void> {
    return this.tx.write(() => this.rename('iam_users', id, change));
  }

  deleteUser(id: string): Promise<void> {
    return this.tx.write(() => {
      this.mustExist('iam_users', id);
      if (this.q('SELECT 1 FROM access_keys WHERE iam_user_id = ? LIMIT 1').get(id)) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
      this.checkNoPolicies(id);
      if (this.q('SELECT 1 FROM iam_group_members WHERE user_id = ? LIMIT 1').get(id)) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must remove user from all groups first.');
      this.q('DELETE FROM iam_users WHERE id = ?').run(id);
    });
  }

  listUsers(accountId: string, q: IamListQuery): Promise<IamUser[]> {
    return this.tx.read(() => this.list<EntityRow>('iam_users', accountId, q).map(toEntity));
  }

  // ---------------------------------------------------------------- groups

  createGroup(group: IamGroup, maxPerAccount?: number): Promise<void> {
    return this.tx.write(() => this.insertEntity('iam_groups', group, {}, maxPerAccount));
  }

  getGroup(accountId: string, name: string): Promise<IamGroup | undefined> {
    return this.tx.read(() => {
      const r = this.byName<EntityRow>('iam_groups', accountId, name);
      return r && toEntity(r);
    });
  }

  updateGroup(id: string, change: { name?: string; path?: string }): Promise<void> {
    return this.tx.write(() => this.rename('iam_groups', id, change));
  }

  deleteGroup(id: string): Promise<void> {
    return this.tx.write(() => {
      this.mustExist('iam_groups', id);
      if (this.q('SELECT 1 FROM iam_group_members WHERE group_id = ? LIMIT 1').get(id)) throw new IamStoreError('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
      this.checkNoPolicies(id);
      this.q('DELETE FROM iam_groups WHERE id = ?').run(id);
    });
  }

  listGroups(accountId: string, q: IamListQuery): Promise<IamGroup[]> {
    return this.tx.read(() => this.list<EntityRow>('iam_groups', accountId, q).map(toEntity));
  }

  addUserToGroup(groupId: string, userId: string, maxGroupsPerUser: number): Promise<void> {
    return this.tx.write(() => {
      this.mustExist('iam_groups', groupId);
      this.mustExist('iam_users', userId);
      if (this.q('SELECT 1 FROM iam_group_members WHERE group_id = ? AND user_id = ?').get(groupId, userId)) return;
      const { n } = this.q('SELECT COUNT(*) AS n FROM iam_group_members WHERE user_id = ?').get(userId) as { n: number };
      if (n >= maxGroupsPerUser) throw new IamStoreError('LimitExceeded', `Cannot exceed quota for GroupsPerUser: ${maxGroupsPerUser}`);
      this.q('INSERT INTO iam_group_members (group_id, user_id) VALUES (?, ?)').run(groupId, userId);
    });
  }

  removeUserFromGroup(groupId: string, userId: string): Promise<void> {
    return this.tx.write(() => {
      const info = this.q('DELETE FROM iam_group_members WHERE group_id = ? AND user_id = ?').run(groupId, userId);
      if (info.changes === 0) throw new IamStoreError('NoSuchEntity', 'The user is not a member of the group.');
    });
  }

  listGroupMembers(groupId: string, q: IamPage): Promise<IamUser[]> {
    return this.tx.read(() =>
      (
        this.q('SELECT u.* FROM iam_group_members m JOIN iam_users u ON u.id = m.user_id WHERE m.group_id = ? AND u.name > ? ORDER BY u.name LIMIT ?').all(
          groupId,
          q.after ?? '',
          q.limit,
        ) as EntityRow[]
      ).map(toEntity),
    );
  }

  listGroupsOfUser(userId: string, q: IamPage): Promise<IamGroup[]> {
    return this.tx.read(() =>
      (
        this.q('SELECT g.* FROM iam_group_members m JOIN iam_groups g ON g.id = m.group_id WHERE m.user_id = ? AND g.name > ? ORDER BY g.name LIMIT ?').all(
          userId,
          q.after ?? '',
          q.limit,
        ) as EntityRow[]
      ).map(toEntity),
    );
  }

  // ---------------------------------------------------------------- roles

  createRole(role: IamRole, maxPerAccount?: number): Promise<void> {
    return this.tx.write(() =>
      this.insertEntity('iam_roles', role, { trust_policy: role.assumeRolePolicy, max_session_duration: role.maxSessionDuration, description: role.description ?? null }, maxPerAccount),
    );
  }

  getRole(accountId: string, name: string): Promise<IamRole | undefined> {
    return this.tx.read(() => {
      const r = this.byName<RoleRow>('iam_roles', accountId, name);
      return r && toRole(r);
    });
  }

  getRoleById(id: string): Promise<IamRole | undefined> {
    return this.tx.read(() => {
      const r = this.q('SELECT * FROM iam_roles WHERE id = ?').get(id) as RoleRow | undefined;
      return r && toRole(r);
    });
  }

  updateRole(id: string, change: { description?: string; maxSessionDuration?: number; assumeRolePolicy?: string }): Promise<void> {
    return this.tx.write(() => {
      const r = this.q('SELECT * FROM iam_roles WHERE id = ?').get(id) as RoleRow | undefined;
      if (!r) throw new IamStoreError('NoSuchEntity', 'The role cannot be found.');
      this.q('UPDATE iam_roles SET description = ?, max_session_duration = ?, trust_policy = ? WHERE id = ?').run(
        change.description ?? r.description,
        change.maxSessionDuration ?? r.max_session_duration,
        change.assumeRolePolicy ?? r.trust_policy,
        id,
      );
    });
  }

  deleteRole(id: string): Promise<void> {
    return this.tx.write(() => {
      this.mustExist('iam_roles', id);
      this.checkNoPolicies(id);
      this.q('DELETE FROM iam_roles WHERE id = ?').run(id);
    });
  }

  listRoles(accountId: string, q: IamListQuery): Promise<IamRole[]> {
    return this.tx.read(() => this.list<RoleRow>('iam_roles', accountId, q).map(toRole));
  }

  // ---------------------------------------------------------------- inline policies

  private entityTable(kind: IamEntityRef['kind']): Table {
    return kind === 'user' ? 'iam_users' : kind === 'group' ? 'iam_groups' : 'iam_roles';
  }

  putInlinePolicy(owner: IamEntityRef, name: string, document: string): Promise<void> {
    return this.tx.write(() => {
      this.mustExist(this.entityTable(owner.kind), owner.id);
      this.q('INSERT INTO iam_inline_policies (entity_id, name, document) VALUES (?, ?, ?) ON CONFLICT(entity_id, name) DO UPDATE SET document = excluded.document').run(
        owner.id,
        name,
        document,
      );
    });
  }

  getInlinePolicy(ownerId: string, name: string): Promise<string | undefined> {
    return this.tx.read(() => (this.q('SELECT document FROM iam_inline_policies WHERE entity_id = ? AND name = ?').get(ownerId, name) as { document: string } | undefined)?.document);
  }

  deleteInlinePolicy(ownerId: string, name: string): Promise<void> {
    return this.tx.write(() => {
      if (this.q('DELETE FROM iam_inline_policies WHERE entity_id = ? AND name = ?').run(ownerId, name).changes === 0) {
        throw new IamStoreError('NoSuchEntity', `The policy with name ${name} cannot be found.`);
      }
    });
  }

  listInlinePolicies(ownerId: string, q: IamPage): Promise<IamInlinePolicy[]> {
    return this.tx.read(() =>
      this.q('SELECT name, document FROM iam_inline_policies WHERE entity_id = ? AND name > ? ORDER BY name LIMIT ?').all(ownerId, q.after ?? '', q.limit) as IamInlinePolicy[],
    );
  }

  // ---------------------------------------------------------------- managed policies

  private policyRow(id: string): PolicyRow {
    const r = this.q(`${POLICY_SELECT} WHERE p.id = ?`).get(id) as PolicyRow | undefined;
    if (!r) throw new IamStoreError('NoSuchEntity', 'The policy cannot be found.');
    return r;
  }

  createPolicy(policy: Omit<IamManagedPolicy, 'defaultVersionId' | 'attachmentCount' | 'updatedAt'>, document: string, maxPerAccount?: number): Promise<IamManagedPolicy> {
    return this.tx.write(() => {
      this.insertEntity('iam_policies', policy, { updated_at: policy.createdAt, description: policy.description ?? null, default_version: 'v1', next_version: 2 }, maxPerAccount);
      this.q('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES (?, ?, ?, ?)').run(policy.id, 'v1', document, policy.createdAt);
      return toPolicy(this.policyRow(policy.id));
    });
  }

  getPolicy(accountId: string, name: string): Promise<IamManagedPolicy | undefined> {
    return this.tx.read(() => {
      const r = this.byName<PolicyRow>('iam_policies', accountId, name);
      return r && toPolicy(r);
    });
  }

  defaultPolicyDocument(policyId: string): Promise<string | undefined> {
    return this.tx.read(() => {
      const r = this.q('SELECT v.document FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.id AND v.version_id = p.default_version WHERE p.id = ?').get(policyId) as
        | { document: string }
        | undefined;
      return r?.document;
    });
  }

  deletePolicy(id: string): Promise<void> {
    return this.tx.write(() => {
      const p = this.policyRow(id);
      if (p.attachments > 0) throw new IamStoreError('DeleteConflict', 'Cannot delete a policy attached to entities.');
      const { n } = this.q('SELECT COUNT(*) AS n FROM iam_policy_versions WHERE policy_id = ?').get(id) as { n: number };
      if (n > 1) throw new IamStoreError('DeleteConflict', "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
      this.q('DELETE FROM iam_policy_versions WHERE policy_id = ?').run(id);
      this.q('DELETE FROM iam_policies WHERE id = ?').run(id);
    });
  }

  listPolicies(accountId: string, q: IamListQuery & { onlyAttached?: boolean }): Promise<IamManagedPolicy[]> {
    return this.tx.read(() =>
      this.list<PolicyRow>('iam_policies', accountId, q, q.onlyAttached ? ' AND EXISTS (SELECT 1 FROM iam_attachments a WHERE a.policy_id = p.id)' : '').map(toPolicy),
    );
  }

  createPolicyVersion(policyId: string, document: string, setAsDefault: boolean, now: number, maxVersions: number): Promise<IamPolicyVersion> {
    return this.tx.write(() => {
      const p = this.policyRow(policyId);
      const { n } = this.q('SELECT COUNT(*) AS n FROM iam_policy_versions WHERE policy_id = ?').get(policyId) as { n: number };
      if (n >= maxVersions) {
        throw new IamStoreError('LimitExceeded', `A managed policy can have up to ${maxVersions} versions. Before you create a new version, you must delete an existing version.`);
      }
      const versionId = `v${p.next_version}`;
      this.q('INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES (?, ?, ?, ?)').run(policyId, versionId, document, now);
      this.q('UPDATE iam_policies SET next_version = ?, updated_at = ?, default_version = ? WHERE id = ?').run(
        p.next_version + 1,
        now,
        setAsDefault ? versionId : p.default_version,
        policyId,
      );
      return { versionId, document, isDefault: setAsDefault, createdAt: now };
    });
  }

  getPolicyVersion(policyId: string, versionId: string): Promise<IamPolicyVersion | undefined> {
    return this.tx.read(() => {
      const r = this.q(
        'SELECT v.version_id, v.document, v.created_at, v.version_id = p.default_version AS is_default FROM iam_policy_versions v JOIN iam_policies p ON p.id = v.policy_id WHERE v.policy_id = ? AND v.version_id = ?',
      ).get(policyId, versionId) as VersionRow | undefined;
      return r && toVersion(r);
    });
  }

  deletePolicyVersion(policyId: string, versionId: string): Promise<void> {
    return this.tx.write(() => {
      const p = this.policyRow(policyId);
      if (p.default_version === versionId) throw new IamStoreError('DeleteConflict', 'Cannot delete the default version of a policy.');
      if (this.q('DELETE FROM iam_policy_versions WHERE policy_id = ? AND version_id = ?').run(policyId, versionId).changes === 0) {
        throw new IamStoreError('NoSuchEntity', `Policy version ${versionId} does not exist.`);
      }
    });
  }

  listPolicyVersions(policyId: string): Promise<IamPolicyVersion[]> {
    return this.tx.read(() =>
      (
        this.q(
          `SELECT v.version_id, v.document, v.created_at, v.version_id = p.default_version AS is_default FROM iam_policy_versions v JOIN iam_policies p ON p.id = v.policy_id
           WHERE v.policy_id = ? ORDER BY CAST(substr(v.version_id, 2) AS INTEGER)`, // v10 after v9
        ).all(policyId) as VersionRow[]
      ).map(toVersion),
    );
  }

  setDefaultPolicyVersion(policyId: string, versionId: string, now: number): Promise<void> {
    return this.tx.write(() => {
      this.policyRow(policyId);
      if (!this.q('SELECT 1 FROM iam_policy_versions WHERE policy_id = ? AND version_id = ?').get(policyId, versionId)) {
        throw new IamStoreError('NoSuchEntity', `Policy version ${versionId} does not exist.`);
      }
      this.q('UPDATE iam_policies SET default_version = ?, updated_at = ? WHERE id = ?').run(versionId, now, policyId);
    });
  }

  attachPolicy(entity: IamEntityRef, policyId: string, maxAttached: number, awsManaged = false): Promise<void> {
    return this.tx.write(() => {
      this.mustExist(this.entityTable(entity.kind), entity.id);
      if (!awsManaged) this.policyRow(policyId);
      if (this.q('SELECT 1 FROM iam_attachments WHERE entity_id = ? AND policy_id = ?').get(entity.id, policyId)) return;
      const { n } = this.q('SELECT COUNT(*) AS n FROM iam_attachments WHERE entity_id = ?').get(entity.id) as { n: number };
      if (n >= maxAttached) {
        const quota = entity.kind === 'user' ? 'PoliciesPerUser' : entity.kind === 'group' ? 'PoliciesPerGroup' : 'PoliciesPerRole';
        throw new IamStoreError('LimitExceeded', `Cannot exceed quota for ${quota}: ${maxAttached}`);
      }
      this.q('INSERT INTO iam_attachments (entity_id, policy_id, entity_kind) VALUES (?, ?, ?)').run(entity.id, policyId, entity.kind);
    });
  }

  detachPolicy(entityId: string, policyId: string): Promise<void> {
    return this.tx.write(() => {
      if (this.q('DELETE FROM iam_attachments WHERE entity_id = ? AND policy_id = ?').run(entityId, policyId).changes === 0) {
        throw new IamStoreError('NoSuchEntity', 'The policy is not attached.');
      }
    });
  }

  listAttachedPolicies(entityId: string, q: IamListQuery): Promise<IamManagedPolicy[]> {
    const prefix = q.pathPrefix ?? '/';
    return this.tx.read(() =>
      (
        this.q(
          `${POLICY_SELECT} JOIN iam_attachments x ON x.policy_id = p.id WHERE x.entity_id = ? AND substr(p.path, 1, ?) = ? AND p.name > ? ORDER BY p.name LIMIT ?`,
        ).all(entityId, prefix.length, prefix, q.after ?? '', q.limit) as PolicyRow[]
      ).map(toPolicy),
    );
  }

  attachedPolicyIds(entityId: string): Promise<string[]> {
    return this.tx.read(() => (this.q('SELECT policy_id FROM iam_attachments WHERE entity_id = ? ORDER BY policy_id').all(entityId) as { policy_id: string }[]).map((r) => r.policy_id));
  }

  countPolicyAttachments(policyId: string, accountId: string): Promise<number> {
    return this.tx.read(() => {
      const { n } = this.q(
        `SELECT COUNT(*) AS n FROM iam_attachments a WHERE a.policy_id = ? AND (
           EXISTS (SELECT 1 FROM iam_users u WHERE u.id = a.entity_id AND u.account_id = ?) OR
           EXISTS (SELECT 1 FROM iam_groups g WHERE g.id = a.entity_id AND g.account_id = ?) OR
           EXISTS (SELECT 1 FROM iam_roles r WHERE r.id = a.entity_id AND r.account_id = ?))`,
      ).get(policyId, accountId, accountId, accountId) as { n: number };
      return n;
    });
  }

  // ---------------------------------------------------------------- OpenID Connect providers

  createOidcProvider(p: IamOidcProvider, maxPerAccount: number): Promise<void> {
    return this.tx.write(() => {
      if (this.q('SELECT 1 FROM iam_oidc_providers WHERE account_id = ? AND url = ?').get(p.accountId, p.url)) {
        throw new IamStoreError('EntityAlreadyExists', `Provider with url https://${p.url} already exists.`);
      }
      const { n } = this.q('SELECT COUNT(*) AS n FROM iam_oidc_providers WHERE account_id = ?').get(p.accountId) as { n: number };
      if (n >= maxPerAccount) throw new IamStoreError('LimitExceeded', `Cannot exceed quota for OpenIdConnectProvidersPerAccount: ${maxPerAccount}`);
      this.q('INSERT INTO iam_oidc_providers (account_id, url, client_ids, thumbprints, created_at) VALUES (?, ?, ?, ?, ?)').run(
        p.accountId,
        p.url,
        JSON.stringify(p.clientIds),
        JSON.stringify(p.thumbprints),
        p.createdAt,
      );
    });
  }

  getOidcProvider(accountId: string, url: string): Promise<IamOidcProvider | undefined> {
    return this.tx.read(() => {
      const r = this.q('SELECT * FROM iam_oidc_providers WHERE account_id = ? AND url = ?').get(accountId, url) as OidcRow | undefined;
      return r && toOidc(r);
    });
  }

  listOidcProviders(accountId: string): Promise<IamOidcProvider[]> {
    return this.tx.read(() => (this.q('SELECT * FROM iam_oidc_providers WHERE account_id = ? ORDER BY url').all(accountId) as OidcRow[]).map(toOidc));
  }

  updateOidcProvider(accountId: string, url: string, update: (p: IamOidcProvider) => { clientIds?: string[]; thumbprints?: string[] }): Promise<void> {
    return this.tx.write(() => {
      const r = this.q('SELECT * FROM iam_oidc_providers WHERE account_id = ? AND url = ?').get(accountId, url) as OidcRow | undefined;
      if (!r) throw new IamStoreError('NoSuchEntity', 'The OpenID Connect provider cannot be found.');
      const current = toOidc(r);
      const change = update(current);
      this.q('UPDATE iam_oidc_providers SET client_ids = ?, thumbprints = ? WHERE account_id = ? AND url = ?').run(
        JSON.stringify(change.clientIds ?? current.clientIds),
        JSON.stringify(change.thumbprints ?? current.thumbprints),
        accountId,
        url,
      );
    });
  }

  deleteOidcProvider(accountId: string, url: string): Promise<boolean> {
    return this.tx.write(() => this.q('DELETE FROM iam_oidc_providers WHERE account_id = ? AND url = ?').run(accountId, url).changes > 0);
  }

  // ---------------------------------------------------------------- access keys

  private keysOf(owner: AccessKeyOwner): { where: string; arg: string } {
    return 'root' in owner ? { where: 'user_id = ? AND iam_user_id IS NULL', arg: owner.root } : { where: 'iam_user_id = ?', arg: owner.iamUserId };
  }

  createAccessKey(key: AccessKey, maxPerOwner: number): Promise<void> {
    return this.tx.write(() => {
      if (key.iamUserId !== undefined) this.mustExist('iam_users', key.iamUserId);
      const owner = this.keysOf(key.iamUserId !== undefined ? { iamUserId: key.iamUserId } : { root: key.userId });
      const { n } = this.q(`SELECT COUNT(*) AS n FROM access_keys WHERE ${owner.where}`).get(owner.arg) as { n: number };
      if (n >= maxPerOwner) throw new IamStoreError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${maxPerOwner}`);
      this.q('INSERT INTO access_keys (access_key_id, secret, user_id, created_at, iam_user_id, status) VALUES (?, ?, ?, ?, ?, ?)').run(
        key.accessKeyId,
        key.secretAccessKey,
        key.userId,
        key.createdAt,
        key.iamUserId ?? null,
        key.status ?? 'Active',
      );
    });
  }

  listAccessKeys(owner: AccessKeyOwner, q: { after?: string; limit: number }): Promise<AccessKey[]> {
    const o = this.keysOf(owner);
    return this.tx.read(() =>
      (this.q(`SELECT * FROM access_keys WHERE ${o.where} AND access_key_id > ? ORDER BY access_key_id LIMIT ?`).all(o.arg, q.after ?? '', q.limit) as AccessKeyRow[]).map(toAccessKey),
    );
  }

  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    return this.tx.write(() => {
      if (this.q('UPDATE access_keys SET status = ? WHERE access_key_id = ?').run(status, accessKeyId).changes === 0) {
        throw new IamStoreError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
      }
    });
  }

  deleteAccessKey(accessKeyId: string): Promise<void> {
    return this.tx.write(() => {
      if (this.q('DELETE FROM access_keys WHERE access_key_id = ?').run(accessKeyId).changes === 0) {
        throw new IamStoreError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
      }
    });
  }

  recordAccessKeyUse(accessKeyId: string, use: AccessKeyUse): Promise<void> {
    return this.tx.write(() => {
      this.q('UPDATE access_keys SET last_used_at = ?, last_used_service = ?, last_used_region = ? WHERE access_key_id = ?').run(use.at, use.service, use.region, accessKeyId);
    });
  }

  // ---------------------------------------------------------------- the account as a whole

  accountSummary(accountId: string, rootId: string): Promise<IamAccountSummary> {
    return this.tx.read(() => {
      const count = (sql: string, ...args: string[]) => (this.q(sql).get(...args) as { n: number }).n;
      return {
        users: this.countOf('iam_users', accountId),
        groups: this.countOf('iam_groups', accountId),
        roles: this.countOf('iam_roles', accountId),
        policies: this.countOf('iam_policies', accountId),
        policyVersions: count('SELECT COUNT(*) AS n FROM iam_policies p JOIN iam_policy_versions v ON v.policy_id = p.id WHERE p.account_id = ?', accountId),
        oidcProviders: count('SELECT COUNT(*) AS n FROM iam_oidc_providers WHERE account_id = ?', accountId),
        rootAccessKeys: count('SELECT COUNT(*) AS n FROM access_keys WHERE user_id = ? AND iam_user_id IS NULL', rootId),
      };
    });
  }

  // ---------------------------------------------------------------- evaluation

  identityPolicyDocuments(entityId: string, otherDocument: (policyId: string) => string | undefined): Promise<string[]> {
    return this.tx.read(() => {
      // The user (or role) and its groups (a role has none); for each, inline documents and
      // attached policies' default versions.
      const owners = [entityId, ...(this.q('SELECT group_id FROM iam_group_members WHERE user_id = ?').all(entityId) as { group_id: string }[]).map((g) => g.group_id)];
      const out: string[] = [];
      for (const id of owners) {
        for (const r of this.q('SELECT document FROM iam_inline_policies WHERE entity_id = ? ORDER BY name').all(id) as { document: string }[]) out.push(r.document);
        // An attachment without a policy row is of an AWS managed policy, resolved by the caller.
        const attached = this.q(
          `SELECT a.policy_id, v.document FROM iam_attachments a LEFT JOIN iam_policies p ON p.id = a.policy_id
           LEFT JOIN iam_policy_versions v ON v.policy_id = p.id AND v.version_id = p.default_version WHERE a.entity_id = ? ORDER BY a.policy_id`,
        ).all(id) as { policy_id: string; document: string | null }[];
        for (const r of attached) {
          const document = r.document ?? otherDocument(r.policy_id);
          if (document !== undefined) out.push(document);
        }
      }
      return out;
    });
  }
}
