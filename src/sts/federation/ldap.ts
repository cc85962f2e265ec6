// LDAP / Active Directory logins for AssumeRoleWithLDAPIdentity, as MinIO does them:
//   1. bind as the lookup (service) account (--ldap-bind-dn, its password from a file), or
//      anonymously without one;
//   2. find the user's entry under --ldap-user-base with --ldap-user-filter, `%s` replaced by the
//      user name (escaped as RFC 4515 requires: a name cannot widen the filter);
//   3. bind as that entry with the user's password: the directory checks it;
//   4. bind as the lookup account again and find the user's groups under --ldap-group-base with
//      --ldap-group-filter (`%d`: the user's DN, `%s`: the user name).
// ldap://, ldaps:// and ldap:// with StartTLS (--ldap-start-tls); TLS verifies the server against
// Node's CAs plus --ldap-ca-file. An empty password is refused before any bind: to LDAP, a simple
// bind with a DN and no password is an "unauthenticated bind", which many servers accept.
// Passwords are never logged nor put in an error message.

import fs from 'node:fs';
import tls from 'node:tls';
import type { Client, ClientOptions } from 'ldapts';
import type { Config } from '../../config.js';

export { normalizeDn } from './dn.js';

export class LdapLoginError extends Error {
  constructor(
    /** invalid: no such user, or a wrong password (told apart only in the server's log); unavailable: the directory failed. */
    readonly kind: 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'LdapLoginError';
  }
}

export interface LdapUser {
  /** The user's entry. */
  dn: string;
  /** DNs of the groups the user belongs to. */
  groups: string[];
}

const TIMEOUT_MS = 10_000;

/** A value placed in a search filter, escaped (RFC 4515, section 3). */
export function escapeFilterValue(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/%([sd])/g, (_, k: string) => escapeFilterValue(values[k] ?? ''));
}

/** The directory a server is configured with, or undefined when LDAP federation is off. */
export function ldapDirectory(config: Config): LdapDirectory | undefined {
  return config.ldap ? new LdapDirectory(config.ldap) : undefined;
}

export class LdapDirectory {
  constructor(private readonly cfg: NonNullable<Config['ldap']>) {}

  /** Node's CAs plus --ldap-ca-file's, read at each login (so a renewed file is picked up). */
  private ca(): string[] | undefined {
    return this.cfg.caFile === undefined ? undefined : [...tls.rootCertificates, fs.readFileSync(this.cfg.caFile, 'utf8')];
  }

  private options(ca: string[] | undefined): ClientOptions {
    // tlsOptions only for ldaps://: given for an ldap:// URL, ldapts's StartTLS upgrade fails.
    const secure = /^ldaps:/i.test(this.cfg.url);
    return { url: this.cfg.url, timeout: TIMEOUT_MS, connectTimeout: TIMEOUT_MS, ...(secure && ca ? { tlsOptions: { ca } } : {}) };
  }

  private async bindService(client: Client): Promise<void> {
    if (this.cfg.bindDn === undefined) return;
    const password = this.cfg.bindPasswordFile === undefined ? '' : (await fs.promises.readFile(this.cfg.bindPasswordFile, 'utf8')).replace(/\r?\n$/, '');
    await client.bind(this.cfg.bindDn, password);
  }

  /** Checks a user's name and password; the user's DN and groups. */
  async login(username: string, password: string): Promise<LdapUser> {
    if (username === '' || password === '') throw new LdapLoginError('invalid', 'empty user name or password');
    const ca = this.ca();
    // Loaded on the first login: servers without LDAP never pay for the module.
    const { Client, InvalidCredentialsError } = await import('ldapts');
    const client = new Client(this.options(ca));
    try {
      if (this.cfg.startTls) await client.startTLS(ca ? { ca } : {});
      await this.bindService(client);
      const found = await client.search(this.cfg.userBase, { scope: 'sub', filter: fill(this.cfg.userFilter, { s: username }), attributes: ['dn'], sizeLimit: 2 });
      if (found.searchEntries.length === 0) throw new LdapLoginError('invalid', `no entry for user ${JSON.stringify(username)} under ${this.cfg.userBase}`);
      if (found.searchEntries.length > 1) throw new LdapLoginError('invalid', `several entries for user ${JSON.stringify(username)} under ${this.cfg.userBase}`);
      const dn = found.searchEntries[0]!.dn;
      try {
        await client.bind(dn, password);
      } catch (e) {
        if (e instanceof InvalidCredentialsError) throw new LdapLoginError('invalid', `wrong password for ${dn}`);
        throw e;
      }
      const groups: string[] = [];
      if (this.cfg.groupBase !== undefined) {
        await this.bindService(client);
        const res = await client.search(this.cfg.groupBase, { scope: 'sub', filter: fill(this.cfg.groupFilter, { s: username, d: dn }), attributes: ['dn'] });
        for (const e of res.searchEntries) groups.push(e.dn);
      }
      return { dn, groups };
    } catch (e) {
      if (e instanceof LdapLoginError) throw e;
      // The message of a failed LDAP operation names the operation and the server's answer, never the password.
      throw new LdapLoginError('unavailable', (e as Error).message);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }
}
