// Accounts (the tenants that own buckets), their quotas and their QoS limits, and those of their
// IAM users. Through admin/service.ts, which `trove admin` uses on the data directory too.

import { qosChanged } from '../../http/qos.js';
import type { Account } from '../../store/meta/types.js';
import { iamArn } from '../../iam/names.js';
import type { App } from '../../app.js';
import { AdminError } from '../errors.js';
import type { AdminCall } from '../route.js';
import * as svc from '../service.js';

const iso = (ms: number) => new Date(ms).toISOString();

async function describe(app: App, a: Account, rootId: string | undefined, detail: boolean) {
  const out: Record<string, unknown> = { accountId: a.accountId, canonicalId: a.id, name: a.displayName, createdAt: iso(a.createdAt), root: a.id === rootId };
  if (a.email) out.email = a.email;
  if (detail) {
    const u = await svc.usageOf(app.meta, { scope: 'account', id: a.id, label: a.accountId });
    const { quota, ...usage } = u;
    out.usage = usage;
    if (quota) out.quota = quota;
    out.qos = await svc.getQos(app.meta, { account: a.accountId });
  }
  return out;
}

export async function listAccounts(c: AdminCall) {
  const root = await svc.rootAccount(c.app.meta);
  const accounts = [];
  for (const a of await c.app.meta.listAccounts()) accounts.push(await describe(c.app, a, root?.id, false));
  return { accounts };
}

export async function createAccount(c: AdminCall) {
  const b = c.body as { name: string; email?: string; accountId?: string; canonicalId?: string; accessKeyId?: string; secretAccessKey?: string };
  if (b.canonicalId !== undefined && (await c.app.meta.getAccount(b.canonicalId))) throw AdminError.of('Conflict', `account ${b.canonicalId} exists`);
  if (b.accountId !== undefined && (await c.app.meta.getAccountById(b.accountId))) throw AdminError.of('Conflict', `account id ${b.accountId} is taken`);
  const r = await svc.createAccount(c.app.meta, {
    name: b.name,
    ...(b.email !== undefined ? { email: b.email } : {}),
    ...(b.accountId !== undefined ? { accountId: b.accountId } : {}),
    ...(b.canonicalId !== undefined ? { canonicalId: b.canonicalId } : {}),
    ...(b.accessKeyId !== undefined ? { accessKey: b.accessKeyId } : {}),
    ...(b.secretAccessKey !== undefined ? { secretKey: b.secretAccessKey } : {}),
  });
  c.app.cachesChanged();
  return { account: await describe(c.app, r.account, undefined, false), accessKeyId: r.accessKeyId, secretAccessKey: r.secretAccessKey };
}

export async function getAccount(c: AdminCall) {
  const a = await svc.findAccount(c.app.meta, c.params.accountId!);
  return describe(c.app, a, (await svc.rootAccount(c.app.meta))?.id, true);
}

export async function updateAccount(c: AdminCall) {
  const a = await svc.findAccount(c.app.meta, c.params.accountId!);
  const b = c.body as { name?: string; email?: string | null };
  const next: Account = { ...a, ...(b.name !== undefined ? { displayName: b.name } : {}) };
  if (b.email === null) delete next.email;
  else if (b.email !== undefined) next.email = b.email;
  await c.app.meta.putAccount(next);
  c.app.cachesChanged();
  return describe(c.app, next, (await svc.rootAccount(c.app.meta))?.id, true);
}

// ---------------------------------------------------------------- quotas

export async function setAccountQuota(c: AdminCall) {
  return svc.setQuota(c.app.meta, await svc.accountQuotaTarget(c.app.meta, c.params.accountId!), c.body);
}
export async function clearAccountQuota(c: AdminCall) {
  return svc.clearQuota(c.app.meta, await svc.accountQuotaTarget(c.app.meta, c.params.accountId!));
}

// ---------------------------------------------------------------- QoS

async function userSubject(c: AdminCall): Promise<svc.QosSubject> {
  const a = await svc.findAccount(c.app.meta, c.params.accountId!);
  const u = await c.app.iam.store.getUser(a.accountId, c.params.userName!);
  if (!u) throw new AdminError(404, 'NoSuchEntity', `The user with name ${c.params.userName} cannot be found.`);
  return { user: iamArn(u.accountId, 'user', u.path, u.name) };
}

async function accountSubject(c: AdminCall): Promise<svc.QosSubject> {
  return { account: (await svc.findAccount(c.app.meta, c.params.accountId!)).accountId };
}

function qosRoutes(subject: (c: AdminCall) => Promise<svc.QosSubject>) {
  return {
    get: async (c: AdminCall) => svc.getQos(c.app.meta, await subject(c)),
    set: async (c: AdminCall) => {
      const r = await svc.setQos(c.app.meta, await subject(c), c.body);
      qosChanged(c.app);
      return r;
    },
    clear: async (c: AdminCall) => {
      await svc.clearQos(c.app.meta, await subject(c));
      qosChanged(c.app);
    },
  };
}

export const accountQos = qosRoutes(accountSubject);
export const userQos = qosRoutes(userSubject);
