// Remote S3 endpoints the operator registers with credentials: tiers (tiering/tiers.ts) and
// replication remotes (replication/remotes.ts). Both keep one record per name in the metadata
// settings (`<kind>:<name>`, listed by `<kind>:index`), with the secret key sealed under the
// master key when one is configured (bound to kind and name, so a sealed secret cannot be moved to
// another record), and re-sealed when the master key rotates. This is the one implementation.

import type { MetaStore } from '../store/meta/types.js';
import { unwrapKey, wrapKey } from './packages.js';

/** A secret as stored: plain (no master key configured) or sealed under the master key (base64). */
export type StoredSecret = { plain: string } | { sealed: string };

/** What every registered endpoint record has. */
export interface EndpointRecord {
  name: string;
  endpoint: string;
  secret: StoredSecret;
}

/** Letters, digits, - and _ (at most 63). */
export const ENDPOINT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export class SealedEndpoints<R extends EndpointRecord> {
  constructor(
    private readonly meta: MetaStore,
    private readonly master: Buffer | undefined,
    /** 'tier' or 'remote': the settings prefix, the sealing context and the word in messages. */
    private readonly kind: string,
    private readonly fail: (message: string) => Error,
  ) {}

  private get index(): string {
    return `${this.kind}:index`;
  }

  /** Checks a new record's name and endpoint URL (http or https); throws the registry's error. */
  check(name: string, endpoint: string, example: string): void {
    if (!ENDPOINT_NAME.test(name)) throw this.fail(`invalid ${this.kind} name ${JSON.stringify(name)}: letters, digits, - and _ (at most 63)`);
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw this.fail(`invalid endpoint ${JSON.stringify(endpoint)}: a URL such as ${example}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw this.fail('the endpoint must be an http:// or https:// URL');
  }

  async names(): Promise<string[]> {
    return JSON.parse((await this.meta.getSetting(this.index)) ?? '[]') as string[];
  }

  /** The listed records (secrets as stored). */
  async records(): Promise<R[]> {
    const out: R[] = [];
    for (const n of await this.names()) {
      const v = await this.meta.getSetting(`${this.kind}:${n}`);
      if (v) out.push(JSON.parse(v) as R);
    }
    return out;
  }

  /** A listed record by name. */
  async record(name: string): Promise<R | undefined> {
    if (!(await this.names()).includes(name)) return undefined;
    const v = await this.meta.getSetting(`${this.kind}:${name}`);
    return v ? (JSON.parse(v) as R) : undefined;
  }

  /** The secret as it is to be stored for `name`: sealed when there is a master key. */
  seal(name: string, secretKey: string, master = this.master): StoredSecret {
    return master ? { sealed: wrapKey(master, Buffer.from(secretKey, 'utf8'), this.aad(name)).toString('base64') } : { plain: secretKey };
  }

  /** Stores a record and lists it. */
  async put(rec: R): Promise<void> {
    await this.meta.putSetting(`${this.kind}:${rec.name}`, JSON.stringify(rec));
    const names = await this.names();
    if (!names.includes(rec.name)) await this.meta.putSetting(this.index, JSON.stringify([...names, rec.name]));
  }

  /** Unlists a record (its setting stays); false when it was not listed. */
  async remove(name: string): Promise<boolean> {
    const names = await this.names();
    if (!names.includes(name)) return false;
    await this.meta.putSetting(this.index, JSON.stringify(names.filter((n) => n !== name)));
    return true;
  }

  /** The record with its secret opened, as `secretKey`. */
  open(rec: R): Omit<R, 'secret'> & { secretKey: string } {
    const { secret, ...rest } = rec;
    if ('plain' in secret) return { ...rest, secretKey: secret.plain };
    if (!this.master) throw this.fail(`the secret key of ${this.kind} ${rec.name} is sealed under the master key: start with --master-key-file or TROVE_MASTER_KEY`);
    return { ...rest, secretKey: unwrapKey(this.master, Buffer.from(secret.sealed, 'base64'), this.aad(rec.name)).toString('utf8') };
  }

  /** Re-seals every listed record's secret under a new master key (rotating the master key). */
  async rewrapAll(next: Buffer): Promise<number> {
    let n = 0;
    for (const rec of await this.records()) {
      rec.secret = this.seal(rec.name, this.open(rec).secretKey, next);
      await this.meta.putSetting(`${this.kind}:${rec.name}`, JSON.stringify(rec));
      n++;
    }
    return n;
  }

  private aad(name: string): string {
    return `${this.kind}:${name}`;
  }
}
