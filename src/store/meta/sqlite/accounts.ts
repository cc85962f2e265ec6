// Server settings, accounts and their root users' access keys.

import type { AccessKey, Account } from '../types.js';
import type { Ctx } from './context.js';
import { toAccessKey, type AccessKeyRow } from './iam.js';
import { toAccount, type AccountRow } from './rows.js';

export async function getSetting(c: Ctx, name: string): Promise<string | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getSetting.get('setting:' + name) as { v: string } | undefined;
  return r?.v;
}

export async function putSetting(c: Ctx, name: string, value: string): Promise<void> {
  await c.commit.write(() => c.stmt.putSetting.run('setting:' + name, value));
}

export function initSetting(c: Ctx, name: string, value: string): Promise<string> {
  return c.commit.write(() => {
    c.stmt.initSetting.run('setting:' + name, value);
    return (c.stmt.getSetting.get('setting:' + name) as { v: string }).v;
  });
}

export async function getAccessKey(c: Ctx, accessKeyId: string): Promise<AccessKey | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getAccessKey.get(accessKeyId) as AccessKeyRow | undefined;
  return r && toAccessKey(r);
}

export async function getAccount(c: Ctx, canonicalId: string): Promise<Account | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getAccount.get(canonicalId) as AccountRow | undefined;
  return r && toAccount(r);
}

export async function getAccountById(c: Ctx, accountId: string): Promise<Account | undefined> {
  if (c.commit.unsynced) await c.commit.unsynced;
  const r = c.stmt.getAccountById.get(accountId) as AccountRow | undefined;
  return r && toAccount(r);
}

export async function putAccount(c: Ctx, a: Account): Promise<void> {
  await c.commit.write(() => {
    const other = c.stmt.getAccountById.get(a.accountId) as AccountRow | undefined;
    if (other && other.id !== a.id) throw new Error(`account id ${a.accountId} belongs to another account`);
    c.stmt.putAccount.run(a.id, a.displayName, a.createdAt, a.accountId, a.email ?? null);
  });
}

export async function putAccessKey(c: Ctx, k: AccessKey): Promise<void> {
  await c.commit.write(() => c.stmt.putAccessKey.run(k.accessKeyId, k.secretAccessKey, k.userId, k.createdAt, k.iamUserId ?? null, k.status ?? 'Active'));
}

export async function listAccounts(c: Ctx): Promise<Account[]> {
  if (c.commit.unsynced) await c.commit.unsynced;
  return (c.cached('SELECT * FROM users ORDER BY display_name, id').all() as AccountRow[]).map(toAccount);
}
