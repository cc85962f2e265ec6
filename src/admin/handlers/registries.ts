// The server's registries: KMS keys (sse/keys.ts), remote tiers (tiering/tiers.ts), replication
// remotes (replication/remotes.ts), event notification targets (notify/targets.ts) and admin
// tokens (admin/tokens.ts) — the same registries `trove admin` edits on the data directory.
// Secrets given (tier and remote secret keys, webhook tokens) are never answered back.

import type { KmsKey } from '../../sse/keys.js';
import type { TierRecord } from '../../tiering/tiers.js';
import type { RemoteRecord } from '../../replication/remotes.js';
import { loadTargets, redact, type TargetDef } from '../../notify/targets.js';
import { AdminError } from '../errors.js';
import type { AdminCall } from '../route.js';
import * as svc from '../service.js';
import { AdminTokens, tokenInfo, type TokenRecord } from '../tokens.js';

const iso = (ms: number) => new Date(ms).toISOString();

// ---------------------------------------------------------------- KMS keys

function kmsJson(c: AdminCall, k: KmsKey) {
  return {
    id: k.id,
    arn: c.app.kms.arn(k.id),
    ...(k.alias ? { alias: k.alias } : {}),
    ...(k.description ? { description: k.description } : {}),
    enabled: k.enabled,
    createdAt: iso(k.created),
    versions: k.versions.map((v) => ({ version: v.version, createdAt: iso(v.created) })),
  };
}

export async function listKmsKeys(c: AdminCall) {
  return { keys: (await c.app.kms.list()).map((k) => kmsJson(c, k)) };
}
export async function createKmsKey(c: AdminCall) {
  const b = c.body as { id?: string; alias?: string; description?: string };
  return kmsJson(c, await c.app.kms.create(b));
}
async function kmsKey(c: AdminCall): Promise<KmsKey> {
  const k = await c.app.kms.describe(c.params.keyId!);
  if (!k) throw AdminError.of('NotFound', `no key ${c.params.keyId}`);
  return k;
}
export async function getKmsKey(c: AdminCall) {
  return kmsJson(c, await kmsKey(c));
}
export async function updateKmsKey(c: AdminCall) {
  return kmsJson(c, await c.app.kms.setEnabled((await kmsKey(c)).id, (c.body as { enabled: boolean }).enabled));
}
export async function rotateKmsKey(c: AdminCall) {
  return kmsJson(c, await c.app.kms.rotate((await kmsKey(c)).id));
}

// ---------------------------------------------------------------- tiers

function tierJson(t: TierRecord) {
  return {
    name: t.name, endpoint: t.endpoint, bucket: t.bucket, prefix: t.prefix, region: t.region, accessKey: t.accessKey,
    secretSealed: 'sealed' in t.secret, archive: t.archive, storageClasses: t.storageClasses, createdAt: iso(t.created),
  };
}

export async function listTiers(c: AdminCall) {
  return { tiers: (await c.app.tiers.registry.records()).map(tierJson) };
}
export async function createTier(c: AdminCall) {
  const rec = await c.app.tiers.registry.add(c.body);
  c.app.cachesChanged();
  return tierJson(rec);
}
export async function getTier(c: AdminCall) {
  const t = (await c.app.tiers.registry.records()).find((r) => r.name === c.params.name);
  if (!t) throw AdminError.of('NotFound', `no tier ${c.params.name}`);
  return tierJson(t);
}
export async function deleteTier(c: AdminCall) {
  if (!(await c.app.tiers.registry.remove(c.params.name!))) throw AdminError.of('NotFound', `no tier ${c.params.name}`);
  c.app.cachesChanged();
}

// ---------------------------------------------------------------- replication remotes

function remoteJson(r: RemoteRecord) {
  return { name: r.name, endpoint: r.endpoint, region: r.region, accessKey: r.accessKey, secretSealed: 'sealed' in r.secret, buckets: r.buckets, createdAt: iso(r.created) };
}

export async function listRemotes(c: AdminCall) {
  return { remotes: (await c.app.replication.remotes.records()).map(remoteJson) };
}
export async function createRemote(c: AdminCall) {
  const rec = await c.app.replication.remotes.add(c.body);
  c.app.cachesChanged();
  return remoteJson(rec);
}
export async function getRemote(c: AdminCall) {
  const r = (await c.app.replication.remotes.records()).find((x) => x.name === c.params.name);
  if (!r) throw AdminError.of('NotFound', `no remote ${c.params.name}`);
  return remoteJson(r);
}
export async function deleteRemote(c: AdminCall) {
  if (!(await c.app.replication.remotes.remove(c.params.name!))) throw AdminError.of('NotFound', `no remote ${c.params.name}`);
  c.app.cachesChanged();
}

// ---------------------------------------------------------------- notification targets

export function targetJson(t: TargetDef) {
  return {
    name: t.name, type: t.type, arn: t.arn, endpoint: redact(t.endpoint),
    ...(t.destination ? { destination: t.destination } : {}),
    ...(t.exchange ? { exchange: t.exchange } : {}),
    ...(t.format ? { format: t.format } : {}),
    ...(t.token ? { token: '(set)' } : {}),
    ...(t.ca ? { ca: '(set)' } : {}),
    createdAt: iso(t.createdAt),
  };
}

export async function listTargets(c: AdminCall) {
  return { targets: (await loadTargets(c.app.meta)).map(targetJson) };
}
export async function putTarget(c: AdminCall) {
  return targetJson(await svc.putTarget(c.app.meta, { ...c.body, name: c.params.name }));
}
export async function getTarget(c: AdminCall) {
  const t = (await loadTargets(c.app.meta)).find((x) => x.name === c.params.name);
  if (!t) throw AdminError.of('NotFound', `no target ${c.params.name}`);
  return targetJson(t);
}
export async function deleteTarget(c: AdminCall) {
  if (!(await svc.removeTarget(c.app.meta, c.params.name!))) throw AdminError.of('NotFound', `no target ${c.params.name}`);
}

// ---------------------------------------------------------------- admin tokens

function tokenJson(t: TokenRecord, now: number) {
  const i = tokenInfo(t);
  return { ...i, createdAt: iso(i.createdAt), expiresAt: iso(i.expiresAt), expired: i.expiresAt <= now };
}

export async function listTokens(c: AdminCall) {
  return { tokens: (await new AdminTokens(c.app.meta).list()).map((t) => tokenJson(t, c.now)) };
}
export async function createToken(c: AdminCall) {
  const b = c.body as { name: string; actions: string[]; resources?: string[]; expiresInSeconds?: number };
  const { token, info } = await new AdminTokens(c.app.meta).create({
    name: b.name,
    scope: { actions: b.actions, resources: b.resources ?? ['*'] },
    ...(b.expiresInSeconds !== undefined ? { expiresInSeconds: b.expiresInSeconds } : {}),
    createdBy: c.caller.arn,
    now: c.now,
  });
  return { token, ...info, createdAt: iso(info.createdAt), expiresAt: iso(info.expiresAt), expired: false };
}
export async function getToken(c: AdminCall) {
  const t = await new AdminTokens(c.app.meta).get(c.params.tokenId!);
  if (!t) throw AdminError.of('NotFound', `no token ${c.params.tokenId}`);
  return tokenJson(t, c.now);
}
export async function deleteToken(c: AdminCall) {
  if (!(await new AdminTokens(c.app.meta).revoke(c.params.tokenId!))) throw AdminError.of('NotFound', `no token ${c.params.tokenId}`);
}
