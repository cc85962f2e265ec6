// MetaStore: the ordered, transactional metadata store behind Trove. SQLite is the embedded
// default; PostgreSQL implements the same interface for scale-out. Protocol code talks only to
// this interface.
//
// Keys compare as UTF-8 bytes everywhere. Every object record carries a version id ('null' for the
// null version); the latest version of each key is found by an index. Every write method resolves
// only once its transaction is durable.

import type { ChecksumAlgorithm } from '../../common/checksums.js';
import type { SseDescriptor } from '../../sse/object.js';

export type VersioningState = 'Unversioned' | 'Enabled' | 'Suspended';

export interface Bucket {
  id: number;
  name: string;
  /** Canonical user id of the owner. */
  owner: string;
  /** ms since epoch */
  createdAt: number;
  region: string;
  versioning: VersioningState;
  objectLock: boolean;
}

/** Per-bucket configuration documents (stored as opaque strings, usually JSON or XML). */
export type BucketConfigKind =
  | 'tagging'
  | 'object-lock'
  | 'policy'
  | 'cors'
  | 'lifecycle'
  | 'acl'
  | 'encryption'
  | 'website'
  | 'ownership'
  | 'public-access-block'
  | 'notification'
  | 'logging'
  | 'accelerate'
  | 'request-payment'
  | 'replication'
  /** The bucket's storage policy's name (storage/policies.ts), fixed at creation. */
  | 'storage-policy';

export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64 of the digest; for COMPOSITE multipart checksums "…-N" as S3 shows it. */
  value: string;
  type: ChecksumType;
}

export interface Retention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** ms since epoch */
  until: number;
}

/** The content of an object version, as written by PutObject / Copy / Complete. */
export interface ObjectContent {
  size: number;
  /** ETag without quotes: hex MD5, or "<hex>-N" for multipart. */
  etag: string;
  /** ms since epoch */
  lastModified: number;
  owner: string;
  storageClass: string;
  /** Stored representation headers (lower-case names): content-type, content-encoding,
   *  content-disposition, content-language, cache-control, expires, x-amz-website-redirect-location. */
  headers: Record<string, string>;
  /** x-amz-meta-* with the prefix removed (lower-case names). */
  userMeta: Record<string, string>;
  checksum?: StoredChecksum;
  tags?: [string, string][];
  retention?: Retention;
  legalHold?: boolean;
  /** Serialised ACL (owned by authz/). */
  acl?: string;
  /** Server-side encryption: how the stored bytes are sealed (sse/). `size` stays the plaintext's. */
  sse?: SseDescriptor;
  /** Exactly one of inline / blobId / parts describes where the bytes are. */
  inline?: Buffer;
  blobId?: string;
  /** Multipart objects: parts in order, each its own blob. */
  parts?: ObjectPart[];
  /**
   * The blobs already belong to other records (a copy, a completed upload's parts): the write
   * takes another reference and fails with NoSuchKey if they were released meanwhile. Otherwise
   * they are fresh blobs written for this request.
   */
  sharedData?: boolean;
  /**
   * Replication (src/replication/): PENDING / COMPLETED / FAILED on a source version a rule
   * replicates, REPLICA on a version written by replication. Kept in the version's JSON.
   */
  replicationStatus?: ReplicationStatus;
  /**
   * A replica's version id (32 hex digits, as the source minted it): the version is written with
   * exactly this id, is the latest only if it sorts after the current latest, and a version of
   * that id already there is left as it is (the write answers `existed`). Never persisted as such.
   * Versioning-enabled buckets only.
   */
  replicaVersionId?: string;
}

export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

export interface ObjectPart {
  partNumber: number;
  /** Offset of this part's first byte within the object. */
  offset: number;
  size: number;
  etag: string;
  checksum?: string;
  blobId: string;
}

/**
 * Where a tiered version's bytes are (tiering/): in a remote tier, and, once restored, in a local
 * blob too. The version keeps everything else here (metadata, tags, ETag, its parts' offsets).
 */
export interface TierState {
  /** The tier's name (tiering/tiers.ts). */
  tier: string;
  /** The remote copy's key in the tier's bucket. */
  key: string;
  /** Bytes the remote copy holds: the stored bytes (sealed ones for an encrypted object). */
  size: number;
  /** SHA-256 of the remote copy as verified after the upload (base64; composite: "…-N"). */
  sha256: string;
  /** Reads need a restore first. */
  archive: boolean;
  /** An encrypted single-blob object: the blob id its bytes were sealed under (keys derive from it). */
  sealedAs?: string;
  /** RestoreObject: a local copy of the remote bytes, asked for, made, until `expiry`. */
  restore?: {
    ongoing: boolean;
    days: number;
    /** ms since epoch, once restored. */
    expiry?: number;
    /** The local blob holding the restored copy (the same bytes as the remote one). */
    blob?: string;
  };
}

export interface ObjectVersion extends Omit<ObjectContent, 'parts' | 'replicaVersionId'> {
  bucketId: number;
  key: string;
  /** 'null' for the null version. */
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  /** Number of parts for multipart objects (fetch them with getObjectParts). */
  partsCount?: number;
  /** CRC32 of `inline`, recorded when it was written (absent in rows older than the checksums). */
  inlineCrc?: number;
  /** Store-internal identity of this version row (used to fetch parts). */
  rowId: number;
  /** The version's bytes were moved to a remote tier (tiering/). */
  tier?: TierState;
}

/** A change of a version's tier state (MetaStore.updateTier). */
export interface TierChange {
  /** The new tier state (absent: unchanged). */
  tier?: TierState;
  /** The storage class the version reports from now on. */
  storageClass?: string;
  /** Follow-up work recorded in the same transaction (the work engine's items). */
  work?: NewWork[];
}

/** Write preconditions, checked inside the transaction (compare-and-swap). */
export interface WriteConditions {
  /** '*' (key must not exist) … */
  ifNoneMatch?: string;
  /** … or an ETag (without quotes) the current object must have. */
  ifMatch?: string;
}

/**
 * Conditional delete (If-Match, x-amz-if-match-last-modified-time, x-amz-if-match-size),
 * checked inside the delete's transaction against the version it removes (see
 * common/rules.ts checkDeleteConditions).
 */
export interface DeleteConditions {
  /** '*' (a current object must exist) or an ETag (without quotes) it must have. */
  ifMatch?: string;
  /** The version's last-modified time must be this (ms since epoch, compared to the second). */
  ifMatchLastModified?: number;
  /** The version's size in bytes must be this. */
  ifMatchSize?: number;
}

export interface PutResult {
  versionId: string;
  /** The version this write displaced as latest, if any. */
  previous?: { versionId: string; deleteMarker: boolean };
  /** A replica write (ObjectContent.replicaVersionId) found that version there already: nothing was written. */
  existed?: boolean;
}

export interface DeleteOptions {
  /** Delete this exact version; without it, the S3 "simple delete" semantics apply. */
  versionId?: string;
  /** x-amz-bypass-governance-retention: true, from a caller allowed to bypass. */
  bypassGovernance?: boolean;
  /** ms since epoch, for retention checks. */
  now: number;
  conditions?: DeleteConditions;
  /** Follow-up work, committed in the same transaction (see WriteOptions). */
  work?: WorkSpec;
  /** A replicated delete marker: created with this version id (see ObjectContent.replicaVersionId). */
  markerVersionId?: string;
  /** The replication status the delete marker gets (REPLICA for a replicated one). */
  markerReplicationStatus?: ReplicationStatus;
}

export interface DeleteResult {
  /** The version removed or the delete marker created (undefined if nothing existed). */
  versionId?: string;
  /** True when a delete marker was created, or the deleted version was a delete marker. */
  deleteMarker: boolean;
}

export interface ListedObject {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  size: number;
  etag: string;
  lastModified: number;
  owner: string;
  storageClass: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface ListObjectsQuery {
  /** Only keys starting with this prefix. */
  prefix: string;
  /** Start at this key … */
  start?: string;
  /** … including it (default: exclusive). */
  startInclusive?: boolean;
  limit: number;
}

export interface ListVersionsQuery {
  prefix: string;
  /** Resume after (keyMarker, versionIdMarker) in listing order; without versionIdMarker after every version of keyMarker. */
  keyMarker?: string;
  versionIdMarker?: string;
  /** Start at this key (inclusive), used to seek past a common prefix. */
  startKey?: string;
  limit: number;
}

// ---------------------------------------------------------------- the work engine's queue
//
// Follow-up work (expire, transition, deliver a log batch, …) is a row of the `work` table,
// written either on its own (enqueueWork) or in the same transaction as the object change that
// causes it (the `work` option of the object writes: an outbox), so that a change and its
// follow-up commit or vanish together. Workers claim rows under a lease (claimWork), delete them
// when done (completeWork) or put them back with a later not-before (retryWork). A claimed row's
// not-before is its lease's expiry: a holder that dies leaves it claimable again then.

/** A work item to record. */
export interface NewWork {
  /** What to do (the runner's handler name): 'lifecycle.expire', 'transition', 'log.deliver', … */
  kind: string;
  /** Anything JSON can carry; handed back parsed. */
  payload: unknown;
  /** Not before this time (ms since epoch; default: now). */
  notBefore?: number;
  /**
   * Items with the same ordering key may later be delivered in order (e.g. `${bucketId}/${key}`
   * for per-key notifications): an item is not claimed while an earlier item (lower id) with
   * the same key is queued — due, scheduled for a retry, or claimed.
   */
  orderKey?: string;
  /**
   * At most one item with this key is queued (due, scheduled or claimed) at a time: recording
   * another while one is queued records nothing (and answers the queued item's id). E.g. one
   * lifecycle pass per bucket, one transition per object version.
   */
  dedupeKey?: string;
}

/** A recorded work item, as claimed. */
export interface WorkItem {
  id: number;
  kind: string;
  payload: unknown;
  /** ms since epoch: due from then (while claimed: the claim's expiry). */
  notBefore: number;
  /** Claims so far, this one included. */
  attempts: number;
  /** ms since epoch */
  createdAt: number;
  orderKey?: string;
  dedupeKey?: string;
  /** What the last failed attempt said. */
  lastError?: string;
}

/** What an object write did, for work that depends on it (see WriteOptions.work). */
export interface WriteEffect {
  /** The version written (PUT, Complete, delete marker) or removed (versioned DELETE). */
  versionId?: string;
  /** Versions this write removed for good (an overwritten null version, a deleted version). */
  removed: ObjectVersion[];
}

/** Work recorded with an object write: a list, or a function of what the write did. */
export type WorkSpec = NewWork[] | ((effect: WriteEffect) => NewWork[]);

/** Options every object write takes. */
export interface WriteOptions {
  /** Follow-up work, committed in the same transaction as the write (the outbox). */
  work?: WorkSpec;
}

export interface WorkKindStats {
  kind: string;
  /** Items recorded (due, scheduled later, or claimed). */
  depth: number;
  /** Items due now and not claimed. */
  due: number;
  /** Items claimed by a worker right now. */
  running: number;
  /** Items whose last attempt failed (they are retried with backoff). */
  failing: number;
  /** How long the oldest due item has waited (ms): the lag. */
  lagMs: number;
  /** Most claims of one item. */
  maxAttempts: number;
}

export interface WorkStats {
  depth: number;
  /** How long the oldest due item of any kind has waited (ms). */
  lagMs: number;
  failing: number;
  kinds: WorkKindStats[];
}

/** An account: the tenant that owns buckets and objects, and whose root user holds keys. */
export interface Account {
  /** Canonical user id (64 hex), as S3 shows owners. */
  id: string;
  /** The 12-digit account id, as IAM ARNs and policies name it. */
  accountId: string;
  displayName: string;
  email?: string;
  createdAt: number;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

/** When and where a key was last used (GetAccessKeyLastUsed). */
export interface AccessKeyUse {
  /** ms since epoch */
  at: number;
  /** 's3' or 'iam' */
  service: string;
  region: string;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  /** Canonical id of the account the key belongs to (its root user's, or one of its IAM users'). */
  userId: string;
  /** The IAM user (its unique id, AIDA…) holding the key; absent: the account's root user. */
  iamUserId?: string;
  /** Inactive keys are refused as if unknown; absent means Active. */
  status?: AccessKeyStatus;
  createdAt: number;
  /** Recorded at most once a minute per key (IamService.noteKeyUsed). */
  lastUsed?: AccessKeyUse;
}

export interface Upload {
  uploadId: string;
  bucketId: number;
  key: string;
  /** ms since epoch */
  initiated: number;
  owner: string;
  storageClass: string;
  headers: Record<string, string>;
  userMeta: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  tags?: [string, string][];
  retention?: Retention;
  legalHold?: boolean;
  acl?: string;
  /** Server-side encryption of the object to be: its parts are sealed under this data key. */
  sse?: SseDescriptor;
}

export interface UploadPart {
  partNumber: number;
  size: number;
  etag: string;
  /** base64 checksum of the part in the upload's algorithm */
  checksum?: string;
  lastModified: number;
  blobId: string;
  /** The blob already belongs to an object (UploadPartCopy of a whole single-blob object). */
  shared?: boolean;
}

/** What a completed upload answered, so that repeating the same Complete answers the same. */
export interface CompletedUpload {
  uploadId: string;
  bucketId: number;
  key: string;
  versionId: string;
  etag: string;
  checksum?: StoredChecksum;
  /** Fingerprint of the part list the upload was completed with. */
  partsDigest: string;
  completedAt: number;
}

export interface ListUploadsQuery {
  prefix: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  /** Start at this key (inclusive), used to seek past a common prefix. */
  startKey?: string;
  limit: number;
}

// ---------------------------------------------------------------- IAM inside accounts
//
// Users, groups, roles and managed policies belong to an account (its 12-digit id). Names are
// unique within an account whatever their case, as in AWS; each entity also has a unique id
// (AIDA… users, AGPA… groups, AROA… roles, ANPA… policies) by which memberships, attachments, inline
// policies and access keys refer to it, so a rename touches one record. Policy documents are
// stored as given, validated by the IAM service before they are written.

export type IamEntityKind = 'user' | 'group' | 'role';

/** What users, groups, roles and managed policies have in common. */
export interface IamEntity {
  /** The 12-digit account id. */
  accountId: string;
  /** Unique id: AIDA… / AGPA… / AROA… / ANPA… (21 characters). */
  id: string;
  name: string;
  /** "/" or "/a/b/": part of the ARN, arn:aws:iam::<account>:user<path><name>. */
  path: string;
  /** ms since epoch */
  createdAt: number;
}

export type IamUser = IamEntity;
export type IamGroup = IamEntity;

export interface IamRole extends IamEntity {
  /** The trust policy (AssumeRolePolicyDocument). */
  assumeRolePolicy: string;
  /** Seconds, 3600..43200. */
  maxSessionDuration: number;
  description?: string;
}

export interface IamManagedPolicy extends IamEntity {
  description?: string;
  /** "v1", "v2"…: the version in force. */
  defaultVersionId: string;
  updatedAt: number;
  /** Users, groups and roles it is attached to. */
  attachmentCount: number;
}

export interface IamPolicyVersion {
  versionId: string;
  document: string;
  isDefault: boolean;
  createdAt: number;
}

export interface IamInlinePolicy {
  name: string;
  document: string;
}

/**
 * An OpenID Connect identity provider registered in an account. Its URL, without the https://
 * scheme (host and optional path, as given), identifies it within the account and ends its ARN:
 * arn:aws:iam::<account>:oidc-provider/<url>.
 */
export interface IamOidcProvider {
  accountId: string;
  url: string;
  /** Audiences, in the order they were added. */
  clientIds: string[];
  /** SHA-1 thumbprints (40 hex characters, lower case) of the IdP's certificates. */
  thumbprints: string[];
  /** ms since epoch */
  createdAt: number;
}

/** A user, group or role, as attachments and inline policies refer to it. */
export interface IamEntityRef {
  kind: IamEntityKind;
  id: string;
}

/** One page of a listing by name: names strictly after `after`, in name order (case-insensitive). */
export interface IamPage {
  after?: string;
  limit: number;
}

export interface IamListQuery extends IamPage {
  /** Only entities whose path starts with this ("/" matches all). */
  pathPrefix?: string;
}

/** Whose keys: an account's root user (its canonical id) or an IAM user (its unique id). */
export type AccessKeyOwner = { root: string } | { iamUserId: string };

/** Counts of what an account has in IAM. */
export interface IamAccountSummary {
  users: number;
  groups: number;
  roles: number;
  /** The account's own managed policies. */
  policies: number;
  /** Versions of the account's own managed policies. */
  policyVersions: number;
  oidcProviders: number;
  /** Access keys of the account's root user. */
  rootAccessKeys: number;
}

/** The conflicts the store detects inside its transactions, with IAM's codes and messages. */
export type IamStoreErrorCode = 'NoSuchEntity' | 'EntityAlreadyExists' | 'DeleteConflict' | 'LimitExceeded';

export class IamStoreError extends Error {
  constructor(
    readonly code: IamStoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IamStoreError';
  }
}

/**
 * IAM persistence. Every check that must hold against concurrent writers (a name taken, a quota,
 * an entity still referenced) runs inside the write's transaction and throws IamStoreError.
 * Entities are looked up by (account, name) — case-insensitively — or by unique id; mutations
 * take unique ids, so callers resolve names (and report NoSuchEntity in IAM's words) first.
 */
export interface IamStore {
  // users
  /** EntityAlreadyExists when the name is taken in the account; LimitExceeded beyond `maxPerAccount` users. */
  createUser(user: IamUser, maxPerAccount?: number): Promise<void>;
  getUser(accountId: string, name: string): Promise<IamUser | undefined>;
  getUserById(id: string): Promise<IamUser | undefined>;
  /** Renames and/or moves a user (EntityAlreadyExists when the new name is taken). */
  updateUser(id: string, change: { name?: string; path?: string }): Promise<void>;
  /** DeleteConflict while the user has access keys, policies or group memberships. */
  deleteUser(id: string): Promise<void>;
  listUsers(accountId: string, q: IamListQuery): Promise<IamUser[]>;

  // groups
  /** LimitExceeded beyond `maxPerAccount` groups. */
  createGroup(group: IamGroup, maxPerAccount?: number): Promise<void>;
  getGroup(accountId: string, name: string): Promise<IamGroup | undefined>;
  /** Renames and/or moves a group (EntityAlreadyExists when the new name is taken); its members and policies stay. */
  updateGroup(id: string, change: { name?: string; path?: string }): Promise<void>;
  /** DeleteConflict while the group has members or policies. */
  deleteGroup(id: string): Promise<void>;
  listGroups(accountId: string, q: IamListQuery): Promise<IamGroup[]>;
  /** Idempotent; LimitExceeded beyond `maxGroupsPerUser`. */
  addUserToGroup(groupId: string, userId: string, maxGroupsPerUser: number): Promise<void>;
  /** NoSuchEntity when the user is not a member. */
  removeUserFromGroup(groupId: string, userId: string): Promise<void>;
  listGroupMembers(groupId: string, q: IamPage): Promise<IamUser[]>;
  listGroupsOfUser(userId: string, q: IamPage): Promise<IamGroup[]>;

  // roles
  /** LimitExceeded beyond `maxPerAccount` roles. */
  createRole(role: IamRole, maxPerAccount?: number): Promise<void>;
  getRole(accountId: string, name: string): Promise<IamRole | undefined>;
  getRoleById(id: string): Promise<IamRole | undefined>;
  updateRole(id: string, change: { description?: string; maxSessionDuration?: number; assumeRolePolicy?: string }): Promise<void>;
  /** DeleteConflict while the role has policies. */
  deleteRole(id: string): Promise<void>;
  listRoles(accountId: string, q: IamListQuery): Promise<IamRole[]>;

  // inline policies of users, groups and roles
  /** Creates or replaces the entity's policy of that name. */
  putInlinePolicy(owner: IamEntityRef, name: string, document: string): Promise<void>;
  getInlinePolicy(ownerId: string, name: string): Promise<string | undefined>;
  /** NoSuchEntity when there is none of that name. */
  deleteInlinePolicy(ownerId: string, name: string): Promise<void>;
  /** In name order (exact, case-sensitive names). */
  listInlinePolicies(ownerId: string, q: IamPage): Promise<IamInlinePolicy[]>;

  // managed policies
  /**
   * Creates the policy with `document` as v1, its default. EntityAlreadyExists when the name is
   * taken; LimitExceeded beyond `maxPerAccount` policies.
   */
  createPolicy(policy: Omit<IamManagedPolicy, 'defaultVersionId' | 'attachmentCount' | 'updatedAt'>, document: string, maxPerAccount?: number): Promise<IamManagedPolicy>;
  getPolicy(accountId: string, name: string): Promise<IamManagedPolicy | undefined>;
  /** The document of a managed policy's default version, by the policy's unique id (undefined: no such policy). */
  defaultPolicyDocument(policyId: string): Promise<string | undefined>;
  /** DeleteConflict while attached or while it has versions besides the default; deletes the default. */
  deletePolicy(id: string): Promise<void>;
  listPolicies(accountId: string, q: IamListQuery & { onlyAttached?: boolean }): Promise<IamManagedPolicy[]>;
  /** v<n+1>; LimitExceeded when the policy has `maxVersions` already. */
  createPolicyVersion(policyId: string, document: string, setAsDefault: boolean, now: number, maxVersions: number): Promise<IamPolicyVersion>;
  getPolicyVersion(policyId: string, versionId: string): Promise<IamPolicyVersion | undefined>;
  /** DeleteConflict for the default version; NoSuchEntity for an unknown one. */
  deletePolicyVersion(policyId: string, versionId: string): Promise<void>;
  /** Oldest first. */
  listPolicyVersions(policyId: string): Promise<IamPolicyVersion[]>;
  /** NoSuchEntity for an unknown version. */
  setDefaultPolicyVersion(policyId: string, versionId: string, now: number): Promise<void>;
  /**
   * Idempotent; LimitExceeded beyond `maxAttached` policies on the entity. An AWS managed policy
   * (`awsManaged`) is no row of this store: it is attached by its id, unchecked.
   */
  attachPolicy(entity: IamEntityRef, policyId: string, maxAttached: number, awsManaged?: boolean): Promise<void>;
  /** NoSuchEntity when not attached. */
  detachPolicy(entityId: string, policyId: string): Promise<void>;
  /** The account's own managed policies attached to the entity (AWS managed ones are not rows). */
  listAttachedPolicies(entityId: string, q: IamListQuery): Promise<IamManagedPolicy[]>;
  /** The ids of every policy attached to the entity, AWS managed ones included. */
  attachedPolicyIds(entityId: string): Promise<string[]>;
  /** Attachments of the policy to users, groups and roles of the account. */
  countPolicyAttachments(policyId: string, accountId: string): Promise<number>;

  // OpenID Connect providers
  /** EntityAlreadyExists when the account has one with that URL; LimitExceeded beyond `maxPerAccount`. */
  createOidcProvider(provider: IamOidcProvider, maxPerAccount: number): Promise<void>;
  getOidcProvider(accountId: string, url: string): Promise<IamOidcProvider | undefined>;
  /** Every provider of the account, by URL. */
  listOidcProviders(accountId: string): Promise<IamOidcProvider[]>;
  /**
   * Changes a provider's client ids and/or thumbprints to what `update` returns for the current
   * ones, atomically (`update` may throw to refuse). NoSuchEntity when there is none.
   */
  updateOidcProvider(accountId: string, url: string, update: (p: IamOidcProvider) => { clientIds?: string[]; thumbprints?: string[] }): Promise<void>;
  /** False when there was none. */
  deleteOidcProvider(accountId: string, url: string): Promise<boolean>;

  // access keys (of root users and of IAM users)
  /** LimitExceeded when the owner has `maxPerOwner` keys already. */
  createAccessKey(key: AccessKey, maxPerOwner: number): Promise<void>;
  /** In access key id order, after `after`. */
  listAccessKeys(owner: AccessKeyOwner, q: { after?: string; limit: number }): Promise<AccessKey[]>;
  setAccessKeyStatus(accessKeyId: string, status: AccessKeyStatus): Promise<void>;
  deleteAccessKey(accessKeyId: string): Promise<void>;
  recordAccessKeyUse(accessKeyId: string, use: AccessKeyUse): Promise<void>;

  /** What an account has, for GetAccountSummary. `rootId` is the account's canonical id. */
  accountSummary(accountId: string, rootId: string): Promise<IamAccountSummary>;

  /**
   * Every identity-based policy document in force for a user or a role (by unique id): its inline
   * policies, the default versions of the managed policies attached to it, and, for a user, the
   * same for each of its groups. An attached policy that is no row of this store (an AWS managed
   * one) is given by `otherDocument` (none: left out). Required, so that no caller forgets the AWS
   * managed policies attached.
   */
  identityPolicyDocuments(entityId: string, otherDocument: (policyId: string) => string | undefined): Promise<string[]>;
}
/**
 * Setting present ('1') when the data directory holds blob files written before blob files had
 * checksums (recorded when its metadata was upgraded): such files are served unverified.
 */
export const LEGACY_BLOBS_SETTING = 'legacy-blobs';

export interface MetaStore {
  close(): Promise<void>;

  /** IAM users, groups, roles, policies and key management inside accounts. */
  readonly iam: IamStore;

  /**
   * Change feed for the caches above the store (IAM credentials and policies, bucket policies and
   * ACLs, account names): `listener` is called whenever another process or node may have
   * committed a change, and those caches then drop what they hold. Called at most every
   * 100 ms-or-so when changes come in; the time from a commit elsewhere to the call is the window
   * in which such a cache can serve stale data — the store says how small (SQLite: a check of
   * PRAGMA data_version before every cached read and every 100 ms; PostgreSQL: LISTEN/NOTIFY).
   * Reads of the store itself never need it: they are strongly consistent (a write acknowledged
   * anywhere is visible to the next read everywhere), caches inside the store included.
   */
  onChange(listener: () => void): void;

  /** Small server-wide settings (e.g. the root user's id). */
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
  /**
   * Stores `value` unless the setting exists, in one transaction, and answers the value in force:
   * of several nodes initialising the same setting at once (a generated key), one value wins.
   */
  initSetting(name: string, value: string): Promise<string>;

  // quotas and usage (see sqlite/quota.ts): a bucket by its id, an account by its canonical id
  getQuota(scope: QuotaScope, id: string): Promise<Quota | undefined>;
  /** Sets (or, with undefined, clears) a quota; enforced by every write from its commit on. */
  setQuota(scope: QuotaScope, id: string, quota: Quota | undefined): Promise<void>;
  /** Exact usage: what the store's writes keep counted in their own transactions. */
  getUsage(scope: QuotaScope, id: string): Promise<Usage>;

  // usage reports (src/usage/; sqlite/usage.ts)
  /** Adds request counters to their hourly rows (upsert adding), all in one transaction. */
  addUsageRequests(rows: readonly UsageRequestRow[]): Promise<void>;
  /**
   * Records every bucket's stored bytes and objects by storage class under `hour` (from the
   * counters the triggers keep); the first snapshot of an hour stays. Answers the rows written.
   */
  snapshotUsageStorage(hour: number): Promise<number>;
  /** Hourly rows from `from` (inclusive) to `to` (exclusive), filtered; principal filters requests only. */
  listUsage(filter: UsageFilter): Promise<UsageRows>;
  /** Deletes the rows of hours before `before`; answers how many. */
  pruneUsage(before: number): Promise<number>;

  // users and keys
  getAccessKey(accessKeyId: string): Promise<AccessKey | undefined>;
  getAccount(canonicalId: string): Promise<Account | undefined>;
  getAccountById(accountId: string): Promise<Account | undefined>;
  /** Creates or renames an account; its account id never changes (another account's id: error). */
  putAccount(account: Account): Promise<void>;
  putAccessKey(key: AccessKey): Promise<void>;
  listAccounts(): Promise<Account[]>;

  // buckets
  createBucket(b: Omit<Bucket, 'id'>): Promise<Bucket>;
  getBucket(name: string): Promise<Bucket | undefined>;
  /**
   * Optional: getBucket and, in the same read, the latest version of `key` in that bucket
   * (getObject without a version id) — as getBucket followed at once by getObject. A store that
   * pays a round trip per read (PostgreSQL) answers both with one; GetObject and HeadObject use
   * it. The version is read at the start of the request, so it is as fresh as getObject's later.
   */
  getBucketWithLatest?(name: string, key: string): Promise<{ bucket: Bucket; latest: ObjectVersion | undefined } | undefined>;
  listBuckets(owner: string | undefined, opts: { prefix?: string; after?: string; limit: number }): Promise<Bucket[]>;
  /** Fails with BucketNotEmpty when any object version remains; aborts open multipart uploads. */
  deleteBucket(bucketId: number): Promise<void>;
  /** Fails with InvalidBucketState when suspending a bucket that has object lock. */
  setVersioning(bucketId: number, state: VersioningState): Promise<void>;
  /** Turns object lock on for good; fails with InvalidBucketState unless versioning is Enabled. */
  enableObjectLock(bucketId: number): Promise<void>;
  getBucketConfig(bucketId: number, kind: BucketConfigKind): Promise<string | undefined>;
  /** value undefined deletes the document. */
  putBucketConfig(bucketId: number, kind: BucketConfigKind, value: string | undefined): Promise<void>;

  // objects
  /** Latest version (which may be a delete marker), or the given version. */
  getObject(bucketId: number, key: string, versionId?: string): Promise<ObjectVersion | undefined>;
  getObjectParts(rowId: number, fromPart?: number, limit?: number): Promise<ObjectPart[]>;
  /**
   * Writes a new version following the bucket's versioning state (read inside the transaction):
   * Unversioned/Suspended replace the 'null' version, Enabled adds a new version id.
   * Conditions are checked atomically (PreconditionFailed / NoSuchKey).
   */
  putObject(bucketId: number, key: string, content: ObjectContent, conditions?: WriteConditions, opts?: WriteOptions): Promise<PutResult>;
  deleteObject(bucketId: number, key: string, opts: DeleteOptions): Promise<DeleteResult>;
  /**
   * Updates tags / retention / legal hold / acl of one version in place (the latest when no
   * version id is given). `check`, if given, sees the current version inside the transaction and
   * may throw to refuse the change (e.g. shortening a retention period).
   */
  updateObject(
    bucketId: number,
    key: string,
    versionId: string | undefined,
    patch: Partial<Pick<ObjectContent, 'tags' | 'retention' | 'legalHold' | 'acl' | 'replicationStatus'>>,
    check?: (current: ObjectVersion) => void,
    opts?: WriteOptions,
  ): Promise<ObjectVersion>;
  /** Latest, non-delete-marker versions in key (UTF-8 byte) order. */
  listObjects(bucketId: number, q: ListObjectsQuery): Promise<ListedObject[]>;
  /** Every version and delete marker: key ascending, newest first within a key. */
  listVersions(bucketId: number, q: ListVersionsQuery): Promise<ListedObject[]>;

  // multipart uploads
  createUpload(u: Upload): Promise<void>;
  getUpload(bucketId: number, uploadId: string): Promise<Upload | undefined>;
  /** Adds or replaces a part. Fails with NoSuchUpload if the upload is gone. */
  putPart(bucketId: number, uploadId: string, part: UploadPart): Promise<void>;
  listParts(uploadId: string, afterPart: number, limit: number): Promise<UploadPart[]>;
  listUploads(bucketId: number, q: ListUploadsQuery): Promise<Upload[]>;
  /** Removes the upload and releases its parts. Fails with NoSuchUpload. */
  abortUpload(bucketId: number, uploadId: string, opts?: WriteOptions): Promise<void>;
  /**
   * Atomically turns the upload into an object version made of the given parts (which must be
   * the upload's current parts, else InvalidPart); releases parts not used; removes the upload
   * and records `completion` (with the new version id) for getCompletedUpload.
   */
  completeUpload(
    bucketId: number,
    uploadId: string,
    content: ObjectContent,
    completion: Omit<CompletedUpload, 'versionId'>,
    conditions?: WriteConditions,
    opts?: WriteOptions,
  ): Promise<PutResult>;
  /** A completion recorded by completeUpload (kept for a day). */
  getCompletedUpload(bucketId: number, uploadId: string): Promise<CompletedUpload | undefined>;

  /**
   * Tiering: changes the tier state of one version in one transaction, only while it is still the
   * row `rowId` (an overwrite of a null version makes another row). `change` sees the version as it
   * is and answers the next state (undefined: nothing to change; it may throw to refuse). A version
   * moving to a tier drops its local data (inline bytes; its blob, its parts' blobs, released: the
   * parts keep their offsets); a restore blob the new state names and the old did not gets its first reference, one
   * the old state named and the new does not is released. Answers the version as it then is;
   * undefined when the row is gone.
   */
  updateTier(bucketId: number, key: string, versionId: string, rowId: number, change: (v: ObjectVersion) => TierChange | undefined): Promise<ObjectVersion | undefined>;

  // blob garbage: blobs no longer referenced by any record, to be deleted from the BlobStore
  /**
   * Up to `limit` blobs no record references any more and released at or before `releasedBefore`
   * (ms since epoch; the store records when a blob's last reference went). Resolves only once the
   * releases it reports are durable.
   */
  takeGarbage(limit: number, releasedBefore?: number): Promise<string[]>;
  forgetBlobs(blobIds: string[]): Promise<void>;
  /** True if the blob id is known (referenced or awaiting deletion). */
  hasBlob(blobId: string): Promise<boolean>;

  // leases: background jobs (GC, the orphan sweep; lifecycle and others later) run on one process
  // or node at a time. A lease is a row (name, holder, expires); whoever holds an unexpired lease
  // runs the job, and when its holder dies the lease expires and another takes over. Holders
  // renew well before expiry (a holder that stalls longer than the TTL may find its job running
  // elsewhere too, so jobs stay idempotent: a lease makes double work rare, not impossible).
  /**
   * Takes the lease `name` for `holder` until now + `ttlMs` if it is free, expired or already
   * this holder's (then it is renewed). True if `holder` now holds it. Durable when it resolves.
   * "Now" is the store's clock (SQLite: this machine's; PostgreSQL: the server's now()).
   */
  tryLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it, so another may take it at once. */
  releaseLease(name: string, holder: string): Promise<void>;

  // work queue (see NewWork): durable follow-up work, claimed under leases
  /** Records work items (one transaction); answers their ids (see NewWork.dedupeKey). */
  enqueueWork(items: NewWork[]): Promise<number[]>;
  /**
   * Claims up to `limit` due items of these kinds for `holder` until now + `leaseMs`, oldest due
   * first, atomically: of racing claimers (processes, nodes) each item goes to one. An item whose
   * claim expired is due again. Counts an attempt. "Now" is the store's clock, as for leases.
   */
  claimWork(kinds: string[], holder: string, limit: number, leaseMs: number): Promise<WorkItem[]>;
  /** Extends `holder`'s claims on these items to now + `leaseMs`; answers the ids still held. */
  renewWork(ids: number[], holder: string, leaseMs: number): Promise<number[]>;
  /** Done: the items are deleted. */
  completeWork(ids: number[]): Promise<void>;
  /** Failed: records the error and makes the item due again at `notBefore` (ms since epoch). */
  retryWork(id: number, error: string, notBefore: number): Promise<void>;
  /** Depth, lag and failures, by kind. */
  workStats(): Promise<WorkStats>;
  /** Queued items of one kind (due, scheduled or claimed), by id after `afterId`, for per-item figures (replication lag by rule). */
  listWork(kind: string, afterId: number, limit: number): Promise<WorkItem[]>;

  // server access logs (src/logging/): records wait in batches, one open batch per source bucket
  // and configuration at a time, until the batch's deadline; then one log object is written per
  // batch and the batch is deleted.
  /**
   * Appends records, each to the open batch of its bucket and configuration (opening one, with
   * deadline now + rollMs, when there is none or the open one's deadline has passed, and with it,
   * in the same transaction, a LOG_DELIVER work item due at the deadline). Durable when it
   * resolves. Answers the batches it opened.
   */
  appendLogRecords(records: readonly LogRecordInput[], rollMs: number, now: number): Promise<LogBatch[]>;
  /** Batches whose deadline is at or before `now`, oldest first (status and tests; delivery is work items). */
  dueLogBatches(now: number, limit: number): Promise<LogBatch[]>;
  /**
   * Closes the batch (no record is appended to it from now on) and reads its records in the
   * order they were appended; undefined when it is gone (delivered meanwhile).
   */
  takeLogBatch(id: number): Promise<{ batch: LogBatch; lines: string[] } | undefined>;
  /** Deletes a delivered (or undeliverable) batch and its records. */
  deleteLogBatch(id: number): Promise<void>;
}

/** The work kind that delivers a batch of server access log records (payload: { batchId }). */
export const LOG_DELIVER = 'log.deliver';

/** One server access log record on its way into a batch. */
export interface LogRecordInput {
  bucketId: number;
  /** What the batch is delivered by (source bucket and logging configuration, JSON): equal strings share a batch. */
  config: string;
  /** The formatted record (one line, without its newline). */
  line: string;
}

export interface LogBatch {
  id: number;
  bucketId: number;
  config: string;
  /** ms since epoch: when its first record came. */
  openedAt: number;
  /** ms since epoch: when it is delivered. */
  deadline: number;
}

export type QuotaScope = 'bucket' | 'account';
/** Limits on stored bytes and object versions (delete markers excluded); absent: unlimited. */
export interface Quota {
  maxBytes?: number;
  maxObjects?: number;
}
export interface Usage {
  /** Bytes of every stored version (all versions in versioned buckets). */
  bytes: number;
  /** Object versions, delete markers excluded. */
  objects: number;
  /** Bytes in parts of multipart uploads not completed yet (they count against byte quotas). */
  stagedBytes: number;
}

/** Requests of one hour, one account (the bucket owner's canonical id), bucket, principal and operation class. */
export interface UsageRequestRow {
  /** ms since epoch: the start of the UTC hour. */
  hour: number;
  /** Canonical id of the bucket's owner (the caller's account without a bucket; '' for anonymous callers then). */
  account: string;
  /** Bucket name; '' for requests that address no bucket or one that does not exist. */
  bucket: string;
  /** The caller: its IAM ARN (a role session: the role's), or 'anonymous'. */
  principal: string;
  /** Operation class: 'A', 'B' or 'free' (src/usage/classes.ts). */
  opClass: string;
  requests: number;
  errors4xx: number;
  errors5xx: number;
  bytesIn: number;
  bytesOut: number;
}

/** Stored bytes and object versions of one bucket and storage class, as of an hour's snapshot. */
export interface UsageStorageRow {
  hour: number;
  account: string;
  bucket: string;
  storageClass: string;
  bytes: number;
  objects: number;
}

export interface UsageFilter {
  from: number;
  to: number;
  account?: string;
  bucket?: string;
  principal?: string;
}

export interface UsageRows {
  requests: UsageRequestRow[];
  storage: UsageStorageRow[];
}
