// Admin tokens: scoped, expiring bearer credentials for the admin API (Garage's v2 admin tokens are
// the model). A token is `<id>.<secret>`; the server keeps only the secret's SHA-256, with the
// token's name, scope and expiry, in the metadata store's settings (`admin-token:<id>`, listed by
// `admin-token:index`, as the tier and remote registries are: no schema change, both stores have
// settings). The scope is a list of admin actions (wildcards allowed: `admin:List*`, `admin:*`)
// and of resources (`arn:trove:admin:::accounts/123456789012/*`, `*`), evaluated by the policy
// engine as an identity policy would be. Anyone allowed admin:CreateToken can mint a token of any
// scope: give that action only to full administrators.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parsePolicy, type Policy } from '../authz/policy/index.js';
import type { MetaStore } from '../store/meta/types.js';
import { AdminError } from './errors.js';

const PREFIX = 'admin-token:';
const INDEX = `${PREFIX}index`;
/** Longest life of a token, and the default. */
export const TOKEN_MAX_SECONDS = 366 * 24 * 3600;
export const TOKEN_DEFAULT_SECONDS = 24 * 3600;
export const ADMIN_RESOURCE_PREFIX = 'arn:trove:admin:::';

export interface TokenScope {
  actions: string[];
  resources: string[];
}

export interface TokenRecord {
  id: string;
  name: string;
  scope: TokenScope;
  createdAt: number;
  expiresAt: number;
  /** Who created it: an ARN, or "cli" for `trove admin token create` on the data directory. */
  createdBy: string;
  /** SHA-256 of the secret part, hex. */
  hash: string;
}

/** What is shown of a token: everything but its hash. */
export type TokenInfo = Omit<TokenRecord, 'hash'>;

export function tokenInfo(t: TokenRecord): TokenInfo {
  const { hash: _hash, ...info } = t;
  return info;
}

const ID = /^[0-9a-f]{24}$/;
const ACTION = /^(\*|admin:[A-Za-z*?]{1,128})$/;

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The scope as an identity policy, for the policy engine. */
export function scopePolicy(scope: TokenScope): Policy {
  return parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: scope.actions, Resource: scope.resources }] }), 'identity');
}

export function checkScope(scope: TokenScope): void {
  if (scope.actions.length === 0) throw AdminError.of('BadRequest', 'a token needs at least one action in its scope (e.g. "admin:List*" or "admin:*")');
  for (const a of scope.actions) if (!ACTION.test(a)) throw AdminError.of('BadRequest', `invalid action ${JSON.stringify(a)} in the scope: admin:<Action>, wildcards * and ? allowed`);
  for (const r of scope.resources) {
    if (r !== '*' && !r.startsWith(ADMIN_RESOURCE_PREFIX)) throw AdminError.of('BadRequest', `invalid resource ${JSON.stringify(r)} in the scope: "*" or ${ADMIN_RESOURCE_PREFIX}<path>`);
  }
  try {
    scopePolicy(scope);
  } catch (e) {
    throw AdminError.of('BadRequest', `invalid scope: ${(e as Error).message}`);
  }
}

export class AdminTokens {
  constructor(private readonly meta: MetaStore) {}

  private async ids(): Promise<string[]> {
    return JSON.parse((await this.meta.getSetting(INDEX)) || '[]') as string[];
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    if (!ID.test(id)) return undefined;
    const v = await this.meta.getSetting(PREFIX + id);
    return v ? (JSON.parse(v) as TokenRecord) : undefined;
  }

  async list(): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for (const id of await this.ids()) {
      const t = await this.get(id);
      if (t) out.push(t);
    }
    return out;
  }

  /** Creates a token; the secret is in the returned `token` only (it is never stored). */
  async create(o: { name: string; scope: TokenScope; expiresInSeconds?: number; createdBy: string; now?: number }): Promise<{ token: string; info: TokenInfo }> {
    const seconds = o.expiresInSeconds ?? TOKEN_DEFAULT_SECONDS;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > TOKEN_MAX_SECONDS) throw AdminError.of('BadRequest', `expiresInSeconds must be a whole number from 1 to ${TOKEN_MAX_SECONDS}`);
    if (!/^[A-Za-z0-9 ._@-]{1,128}$/.test(o.name)) throw AdminError.of('BadRequest', 'a token name is 1-128 letters, digits, spaces and . _ @ -');
    checkScope(o.scope);
    const now = o.now ?? Date.now();
    const id = randomBytes(12).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const rec: TokenRecord = { id, name: o.name, scope: o.scope, createdAt: now, expiresAt: now + seconds * 1000, createdBy: o.createdBy, hash: hashOf(secret) };
    await this.meta.putSetting(PREFIX + id, JSON.stringify(rec));
    await this.meta.putSetting(INDEX, JSON.stringify([...(await this.ids()).filter((i) => i !== id), id]));
    return { token: `${id}.${secret}`, info: tokenInfo(rec) };
  }

  /** Revokes a token at once (its record is emptied); false when there is none. */
  async revoke(id: string): Promise<boolean> {
    const ids = await this.ids();
    const t = await this.get(id);
    if (!t) return false;
    await this.meta.putSetting(PREFIX + id, '');
    await this.meta.putSetting(INDEX, JSON.stringify(ids.filter((i) => i !== id)));
    return true;
  }

  /** The record of a presented token, or an AdminError (InvalidToken, ExpiredToken). */
  async verify(presented: string, now = Date.now()): Promise<TokenRecord> {
    const dot = presented.indexOf('.');
    const id = dot < 0 ? '' : presented.slice(0, dot);
    const rec = await this.get(id);
    const given = Buffer.from(hashOf(presented.slice(dot + 1)), 'hex');
    const ok = rec !== undefined && timingSafeEqual(given, Buffer.from(rec.hash, 'hex'));
    if (!ok) throw AdminError.of('InvalidToken', 'the admin token is not valid (unknown, revoked or mistyped)');
    if (rec.expiresAt <= now) throw AdminError.of('ExpiredToken', `the admin token expired at ${new Date(rec.expiresAt).toISOString()}`);
    return rec;
  }
}
