// Operations the admin API and `trove admin` (working on the data directory) share, over the
// metadata store: accounts with their root keys, quotas and usage, QoS limits, notification
// targets. One implementation, whichever face calls it. Refusals are AdminErrors (400, 404, 409).

import { newAccessKeyId, newSecretKey } from '../iam/ids.js';
import { parseQosLimits, qosSetting, type QosLimits } from '../http/qos.js';
import { checkTarget, loadTargets, saveTargets, targetArn, type TargetDef, type TargetType } from '../notify/targets.js';
import { newAccountId, newUserId, ROOT_USER_SETTING } from '../store/ids.js';
import type { Account, Bucket, BucketConfigKind, MetaStore, Quota, QuotaScope, Usage } from '../store/meta/types.js';
import { AdminError } from './errors.js';

export interface NewAccount {
  name: string;
  email?: string;
  /** 12 digits; generated when absent. */
  accountId?: string;
  /** The canonical id (64 hex); generated when absent. */
  canonicalId?: string;
  accessKey?: string;
  secretKey?: string;
}

/**
 * Creates an account (or, given the canonical id of an existing one, renames it and adds the root
 * key, as `trove admin account add` always did) with a root access key.
 */
export async function createAccount(meta: MetaStore, a: NewAccount): Promise<{ account: Account; accessKeyId: string; secretAccessKey: string }> {
  if (!a.name) throw AdminError.of('BadRequest', 'an account needs a name');
  const id = a.canonicalId ?? newUserId();
  const accessKeyId = a.accessKey ?? newAccessKeyId();
  const secretAccessKey = a.secretKey ?? newSecretKey();
  const existing = await meta.getAccessKey(accessKeyId);
  if (existing && existing.userId !== id) throw AdminError.of('Conflict', `access key ${accessKeyId} already belongs to account ${existing.userId}`);
  if (existing?.iamUserId !== undefined) throw AdminError.of('Conflict', `access key ${accessKeyId} belongs to an IAM user of the account`);
  const current = await meta.getAccount(id);
  const accountId = a.accountId ?? current?.accountId ?? newAccountId();
  if (!/^\d{12}$/.test(accountId)) throw AdminError.of('BadRequest', 'an account id is 12 digits');
  if (current && current.accountId !== accountId) throw AdminError.of('Conflict', `account ${id} already has account id ${current.accountId}`);
  const taken = await meta.getAccountById(accountId);
  if (taken && taken.id !== id) throw AdminError.of('Conflict', `account id ${accountId} is taken`);
  const account: Account = { id, accountId, displayName: a.name, createdAt: current?.createdAt ?? Date.now(), ...(a.email ? { email: a.email } : {}) };
  await meta.putAccount(account);
  await meta.putAccessKey({ accessKeyId, secretAccessKey, userId: id, createdAt: Date.now() });
  return { account, accessKeyId, secretAccessKey };
}

/** The account of a 12-digit id, or NoSuchAccount. */
export async function findAccount(meta: MetaStore, accountId: string): Promise<Account> {
  const a = /^\d{12}$/.test(accountId) ? await meta.getAccountById(accountId) : undefined;
  if (!a) throw AdminError.of('NoSuchAccount', `no account ${accountId}`);
  return a;
}

/** The server's bootstrap root account (its root user holds every admin right). */
export async function rootAccount(meta: MetaStore): Promise<Account | undefined> {
  const id = await meta.getSetting(ROOT_USER_SETTING);
  return id ? meta.getAccount(id) : undefined;
}

// ---------------------------------------------------------------- quotas and usage

export interface QuotaTarget {
  scope: QuotaScope;
  /** The store's id: a bucket's number, an account's canonical id. */
  id: string;
  label: string;
}

export async function bucketQuotaTarget(meta: MetaStore, name: string): Promise<QuotaTarget> {
  const b = await meta.getBucket(name);
  if (!b) throw AdminError.of('NoSuchBucket', `no bucket ${name}`);
  return { scope: 'bucket', id: String(b.id), label: `bucket ${name}` };
}

export async function accountQuotaTarget(meta: MetaStore, accountId: string): Promise<QuotaTarget> {
  const a = await findAccount(meta, accountId);
  return { scope: 'account', id: a.id, label: `account ${accountId}` };
}

export interface UsageReport extends Usage {
  quota?: Quota;
}

export async function usageOf(meta: MetaStore, t: QuotaTarget): Promise<UsageReport> {
  const quota = await meta.getQuota(t.scope, t.id);
  return { ...(await meta.getUsage(t.scope, t.id)), ...(quota ? { quota } : {}) };
}

/** Sets the limits given (others kept); a limit of null removes that limit. */
export async function setQuota(meta: MetaStore, t: QuotaTarget, change: { maxBytes?: number | null; maxObjects?: number | null }): Promise<UsageReport> {
  const q: Quota = { ...(await meta.getQuota(t.scope, t.id)) };
  for (const k of ['maxBytes', 'maxObjects'] as const) {
    const v = change[k];
    if (v === null) delete q[k];
    else if (v !== undefined) {
      if (!Number.isSafeInteger(v) || v < 0) throw AdminError.of('BadRequest', `${k} must be a whole number`);
      q[k] = v;
    }
  }
  await meta.setQuota(t.scope, t.id, q.maxBytes === undefined && q.maxObjects === undefined ? undefined : q);
  return usageOf(meta, t);
}

export async function clearQuota(meta: MetaStore, t: QuotaTarget): Promise<UsageReport> {
  await meta.setQuota(t.scope, t.id, undefined);
  return usageOf(meta, t);
}

/** Usage of every bucket, then of every account (the current totals; the hourly reports are src/usage/). */
export async function allUsage(meta: MetaStore): Promise<{ buckets: (UsageReport & { bucket: string })[]; accounts: (UsageReport & { account: string })[] }> {
  const buckets: (UsageReport & { bucket: string })[] = [];
  for (let after: string | undefined; ; ) {
    const page = await meta.listBuckets(undefined, { limit: 1000, ...(after !== undefined ? { after } : {}) });
    for (const b of page) buckets.push({ bucket: b.name, ...(await usageOf(meta, { scope: 'bucket', id: String(b.id), label: b.name })) });
    if (page.length < 1000) break;
    after = page[page.length - 1]!.name;
  }
  const accounts: (UsageReport & { account: string })[] = [];
  for (const a of await meta.listAccounts()) accounts.push({ account: a.accountId, ...(await usageOf(meta, { scope: 'account', id: a.id, label: a.accountId })) });
  return { buckets, accounts };
}

// ---------------------------------------------------------------- buckets

const CONFIG_KINDS: BucketConfigKind[] = [
  'tagging', 'object-lock', 'policy', 'cors', 'lifecycle', 'acl', 'encryption', 'website', 'ownership',
  'public-access-block', 'notification', 'logging', 'accelerate', 'request-payment', 'replication',
];

/** A bucket as operators see it: owner, usage and quota, versioning and lock; with `detail`, the configurations it has. */
export async function describeBucket(meta: MetaStore, b: Bucket, detail: boolean): Promise<Record<string, unknown>> {
  const owner = await meta.getAccount(b.owner);
  const { quota, ...usage } = await usageOf(meta, { scope: 'bucket', id: String(b.id), label: b.name });
  const out: Record<string, unknown> = {
    name: b.name,
    createdAt: new Date(b.createdAt).toISOString(),
    region: b.region,
    owner: { canonicalId: b.owner, ...(owner ? { accountId: owner.accountId, name: owner.displayName } : {}) },
    versioning: b.versioning,
    objectLock: b.objectLock,
    usage,
    ...(quota ? { quota } : {}),
  };
  if (detail) {
    const set: string[] = [];
    for (const k of CONFIG_KINDS) if ((await meta.getBucketConfig(b.id, k)) !== undefined) set.push(k);
    out.configurations = set;
  }
  return out;
}

/** One line of `trove admin bucket list|show`. */
export function bucketLine(b: any): string {
  const q = b.quota ? ` quota max-bytes ${b.quota.maxBytes ?? 'unlimited'} max-objects ${b.quota.maxObjects ?? 'unlimited'}` : '';
  return `${b.name}\t${b.owner.accountId ?? b.owner.canonicalId}\t${b.versioning}${b.objectLock ? ' +lock' : ''}\tbytes ${b.usage.bytes}\tobjects ${b.usage.objects}${q}${b.configurations ? `\t${b.configurations.join(',') || '-'}` : ''}\n`;
}

// ---------------------------------------------------------------- QoS

export type QosSubject = { account: string } | { user: string };

function qosKey(s: QosSubject): string {
  if ('account' in s) {
    if (!/^\d{12}$/.test(s.account)) throw AdminError.of('BadRequest', 'an account id is 12 digits');
    return qosSetting('account', s.account);
  }
  if (!/^arn:aws:iam::\d{12}:user\/./.test(s.user)) throw AdminError.of('BadRequest', 'a user is named by its IAM user ARN (arn:aws:iam::<account>:user/<name>)');
  return qosSetting('user', s.user);
}

export async function getQos(meta: MetaStore, s: QosSubject): Promise<QosLimits> {
  return parseQosLimits(await meta.getSetting(qosKey(s))) ?? {};
}

/** Sets the rates given (others kept; 0 or null: unlimited). */
export async function setQos(meta: MetaStore, s: QosSubject, change: { rps?: number | null; upBps?: number | null; downBps?: number | null }): Promise<QosLimits> {
  const key = qosKey(s);
  const limits: QosLimits = { ...parseQosLimits(await meta.getSetting(key)) };
  for (const k of ['rps', 'upBps', 'downBps'] as const) {
    const v = change[k];
    if (v === null) delete limits[k];
    else if (v !== undefined) {
      if (!Number.isSafeInteger(v) || v < 0) throw AdminError.of('BadRequest', `${k} must be a whole number`);
      limits[k] = v;
    }
  }
  await meta.putSetting(key, Object.keys(limits).length ? JSON.stringify(limits) : '');
  return getQos(meta, s);
}

export async function clearQos(meta: MetaStore, s: QosSubject): Promise<void> {
  await meta.putSetting(qosKey(s), '');
}

// ---------------------------------------------------------------- notification targets

/** A target as an operator describes it: a TargetDef before its type is checked and its ARN and date are given. */
export type TargetInput = Omit<TargetDef, 'type' | 'arn' | 'createdAt'> & { type: string };

/** Adds a target, or replaces the one of that name. */
export async function putTarget(meta: MetaStore, t: TargetInput, now = Date.now()): Promise<TargetDef> {
  const base = {
    name: t.name,
    type: t.type as TargetType,
    endpoint: t.endpoint,
    ...(t.destination !== undefined ? { destination: t.destination } : {}),
    ...(t.exchange !== undefined ? { exchange: t.exchange } : {}),
    ...(t.format !== undefined ? { format: t.format } : {}),
    ...(t.token !== undefined ? { token: t.token } : {}),
  };
  checkTarget(base);
  const def: TargetDef = { ...base, arn: targetArn(base.name, base.type), createdAt: now, ...(t.ca !== undefined ? { ca: t.ca } : {}) };
  const targets = await loadTargets(meta);
  const i = targets.findIndex((x) => x.name === t.name);
  if (i >= 0) targets[i] = def;
  else targets.push(def);
  await saveTargets(meta, targets);
  return def;
}

export async function removeTarget(meta: MetaStore, name: string): Promise<boolean> {
  const targets = await loadTargets(meta);
  const i = targets.findIndex((t) => t.name === name);
  if (i < 0) return false;
  targets.splice(i, 1);
  await saveTargets(meta, targets);
  return true;
}
