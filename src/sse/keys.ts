// The key service: KMS keys that wrap and unwrap data keys (see packages.ts for the hierarchy).
//
// KeyService is the interface an external KMS (Vault transit, KMIP…) would implement; the only
// implementation is BuiltinKeyService, whose keys are versions of 32 random bytes wrapped by the
// operator's master key and stored as metadata settings (`kms:key:<id>`, and `kms:index` listing
// the ids): no schema change, and every MetaStore has settings.

import fs from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import type { MetaStore } from '../store/meta/types.js';
import { unwrapKey, wrapKey } from './packages.js';

/** Set once anything has been wrapped with a key derived from the master key. */
export const SSE_USED_SETTING = 'sse:used';
const INDEX_SETTING = 'kms:index';
const KEY_PREFIX = 'kms:key:';
/** The built-in key behind SSE-S3. */
export const SSE_S3_KEY_ID = 'trove-sse-s3';

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const k = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (k.length !== 32) throw new MasterKeyError(`${where}: the master key must be 32 bytes, as 64 hex digits or base64`);
  return k;
}

/**
 * The operator's master key: from a file readable by its owner only (mode 0600 or stricter;
 * refused otherwise), else from TROVE_MASTER_KEY; undefined when neither is given.
 */
export function loadMasterKey(file: string | undefined, env: string | undefined): Buffer | undefined {
  if (file) {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      throw new MasterKeyError(`--master-key-file ${file}: ${(e as Error).message}`);
    }
    if ((st.mode & 0o077) !== 0) throw new MasterKeyError(`--master-key-file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    return decodeKey(fs.readFileSync(file, 'utf8'), `--master-key-file ${file}`);
  }
  if (env) return decodeKey(env, 'TROVE_MASTER_KEY');
  return undefined;
}

export interface KmsKeyVersion {
  version: number;
  /** base64 of the key material wrapped by the master key. */
  wrapped: string;
  created: number;
}

export interface KmsKey {
  id: string;
  /** Without the `alias/` prefix. */
  alias?: string;
  description?: string;
  enabled: boolean;
  created: number;
  versions: KmsKeyVersion[];
}

export interface DataKey {
  plaintext: Buffer;
  /** The data key wrapped by the KMS key (opaque to callers). */
  wrapped: Buffer;
  keyId: string;
  version: number;
}

export class KeyError extends Error {
  constructor(readonly reason: 'not-found' | 'disabled' | 'no-master-key' | 'invalid', message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

export interface KeyService {
  /** The key a key id, alias (`alias/name`) or ARN names; undefined when there is none. */
  describe(ref: string): Promise<KmsKey | undefined>;
  /** A fresh data key wrapped by the named key's current version, bound to `context`. */
  generateDataKey(keyId: string, context: string): Promise<DataKey>;
  /** Unwraps a data key wrapped by any version of the key; a disabled key refuses (as KMS does). */
  decrypt(keyId: string, version: number, wrapped: Buffer, context: string): Promise<Buffer>;
  /** The ARN of a key, as S3 reports it. */
  arn(keyId: string): string;
}

/** The id a key reference names: `arn:…:key/<id>` → id; `alias/x` stays an alias. */
function refId(ref: string): string {
  const m = /^arn:aws:kms:[^:]*:[^:]*:(key\/.+|alias\/.+)$/.exec(ref);
  const r = m ? m[1]! : ref;
  return r.startsWith('key/') ? r.slice(4) : r;
}

export class BuiltinKeyService implements KeyService {
  private readonly cache = new Map<string, Buffer>();
  constructor(
    private readonly meta: MetaStore,
    private readonly master: Buffer | undefined,
    private readonly region: string,
    private readonly accountId = '000000000000',
  ) {}

  arn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  async list(): Promise<KmsKey[]> {
    const ids = JSON.parse((await this.meta.getSetting(INDEX_SETTING)) ?? '[]') as string[];
    // The index is read-modify-written (settings have no listing): the SSE-S3 key, created by a
    // running server on first use, is looked up by its id too, so that an admin command racing
    // with that creation cannot hide it from rotate-master.
    if (!ids.includes(SSE_S3_KEY_ID)) ids.unshift(SSE_S3_KEY_ID);
    const keys: KmsKey[] = [];
    for (const id of ids) {
      const k = await this.get(id);
      if (k) keys.push(k);
    }
    return keys;
  }

  private async get(id: string): Promise<KmsKey | undefined> {
    const v = await this.meta.getSetting(KEY_PREFIX + id);
    return v ? (JSON.parse(v) as KmsKey) : undefined;
  }

  async describe(ref: string): Promise<KmsKey | undefined> {
    const r = refId(ref);
    if (r.startsWith('alias/')) return (await this.list()).find((k) => k.alias === r.slice(6));
    return (await this.get(r)) ?? (await this.list()).find((k) => k.alias === r);
  }

  private requireMaster(): Buffer {
    if (!this.master) throw new KeyError('no-master-key', 'no master key is configured (--master-key-file or TROVE_MASTER_KEY)');
    return this.master;
  }

  /** Creates a key (the id given, else a UUID); an existing id is an error. */
  async create(o: { id?: string; alias?: string; description?: string } = {}): Promise<KmsKey> {
    const master = this.requireMaster();
    const id = o.id ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new KeyError('invalid', `invalid key id ${JSON.stringify(id)}: letters, digits, - and _`);
    if (await this.get(id)) throw new KeyError('invalid', `key ${id} exists`);
    if (o.alias && (await this.describe('alias/' + o.alias))) throw new KeyError('invalid', `alias ${o.alias} exists`);
    const now = Date.now();
    const key: KmsKey = { id, enabled: true, created: now, versions: [{ version: 1, wrapped: wrapKey(master, randomBytes(32), id + ':1').toString('base64'), created: now }] };
    if (o.alias) key.alias = o.alias;
    if (o.description) key.description = o.description;
    await this.meta.putSetting(SSE_USED_SETTING, '1');
    const won = await this.meta.initSetting(KEY_PREFIX + id, JSON.stringify(key));
    const ids = JSON.parse((await this.meta.getSetting(INDEX_SETTING)) ?? '[]') as string[];
    if (!ids.includes(id)) await this.meta.putSetting(INDEX_SETTING, JSON.stringify([...ids, id]));
    return JSON.parse(won) as KmsKey;
  }

  /** The key behind SSE-S3, created on first use. */
  async sseS3Key(): Promise<KmsKey> {
    return (await this.get(SSE_S3_KEY_ID)) ?? (await this.create({ id: SSE_S3_KEY_ID, description: 'SSE-S3 (built in)' }).catch(async (e) => (await this.get(SSE_S3_KEY_ID)) ?? Promise.reject(e)));
  }

  async setEnabled(ref: string, enabled: boolean): Promise<KmsKey> {
    const k = await this.describe(ref);
    if (!k) throw new KeyError('not-found', `no key ${ref}`);
    k.enabled = enabled;
    await this.meta.putSetting(KEY_PREFIX + k.id, JSON.stringify(k));
    return k;
  }

  /** Adds a version: new data keys are wrapped by it; older versions still unwrap theirs. */
  async rotate(ref: string): Promise<KmsKey> {
    const master = this.requireMaster();
    const k = await this.describe(ref);
    if (!k) throw new KeyError('not-found', `no key ${ref}`);
    const version = Math.max(...k.versions.map((v) => v.version)) + 1;
    k.versions.push({ version, wrapped: wrapKey(master, randomBytes(32), `${k.id}:${version}`).toString('base64'), created: Date.now() });
    await this.meta.putSetting(KEY_PREFIX + k.id, JSON.stringify(k));
    return k;
  }

  /** Re-wraps every key version under a new master key (rotating the master key). */
  async rewrapAll(next: Buffer): Promise<number> {
    const master = this.requireMaster();
    let n = 0;
    for (const k of await this.list()) {
      for (const v of k.versions) {
        const material = unwrapKey(master, Buffer.from(v.wrapped, 'base64'), `${k.id}:${v.version}`);
        v.wrapped = wrapKey(next, material, `${k.id}:${v.version}`).toString('base64');
        n++;
      }
      await this.meta.putSetting(KEY_PREFIX + k.id, JSON.stringify(k));
    }
    return n;
  }

  /** Unwraps every key version: throws MasterKeyError when the master key is missing or wrong. */
  async verifyMaster(): Promise<void> {
    const used = (await this.meta.getSetting(SSE_USED_SETTING)) === '1';
    if (!used) return;
    if (!this.master) throw new MasterKeyError('objects here are encrypted: start with --master-key-file or TROVE_MASTER_KEY');
    for (const k of await this.list()) {
      for (const v of k.versions) {
        try {
          this.material(k, v.version);
        } catch {
          throw new MasterKeyError(`the master key does not unwrap KMS key ${k.id} (version ${v.version}): wrong master key`);
        }
      }
    }
  }

  private material(k: KmsKey, version: number): Buffer {
    const cacheKey = `${k.id}:${version}`;
    const hit = this.cache.get(cacheKey);
    if (hit) return hit;
    const v = k.versions.find((x) => x.version === version);
    if (!v) throw new KeyError('not-found', `key ${k.id} has no version ${version}`);
    const m = unwrapKey(this.requireMaster(), Buffer.from(v.wrapped, 'base64'), cacheKey);
    this.cache.set(cacheKey, m);
    return m;
  }

  private async usable(keyId: string): Promise<KmsKey> {
    const k = await this.get(keyId);
    if (!k) throw new KeyError('not-found', `no key ${keyId}`);
    if (!k.enabled) throw new KeyError('disabled', `key ${this.arn(keyId)} is disabled`);
    return k;
  }

  async generateDataKey(keyId: string, context: string): Promise<DataKey> {
    const k = await this.usable(keyId);
    const version = Math.max(...k.versions.map((v) => v.version));
    const plaintext = randomBytes(32);
    return { plaintext, wrapped: wrapKey(this.material(k, version), plaintext, context), keyId: k.id, version };
  }

  async decrypt(keyId: string, version: number, wrapped: Buffer, context: string): Promise<Buffer> {
    const k = await this.usable(keyId);
    return unwrapKey(this.material(k, version), wrapped, context);
  }
}
