// A throwaway OpenLDAP server (Debian's slapd) for tests: a slapd.conf generated in a temporary
// directory (MDB database, the core/cosine/inetorgperson/nis schemas), the entries loaded offline
// with slapadd, then slapd started in the foreground on free ports — ldap:// (StartTLS offered)
// and ldaps:// with a self-signed certificate made by openssl. stop() ends it and removes the
// directory.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const SLAPD = ['/usr/sbin/slapd', '/usr/local/sbin/slapd'].find((p) => fs.existsSync(p));
const SLAPADD = ['/usr/sbin/slapadd', '/usr/local/sbin/slapadd'].find((p) => fs.existsSync(p));
const MODULES = ['/usr/lib/ldap', '/usr/lib/x86_64-linux-gnu/ldap', '/usr/lib/aarch64-linux-gnu/ldap'].find((p) => fs.existsSync(path.join(p, 'back_mdb.so')));

export function slapdAvailable(): boolean {
  return SLAPD !== undefined && SLAPADD !== undefined && MODULES !== undefined && fs.existsSync('/etc/ldap/schema/core.schema');
}

export interface Slapd {
  /** ldap://127.0.0.1:<port> */
  url: string;
  /** ldaps://127.0.0.1:<port> */
  ldapsUrl: string;
  /** PEM of the server's self-signed certificate (trust it with --ldap-ca-file). */
  caFile: string;
  suffix: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`slapd did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts slapd for `suffix` with the given LDIF entries (the suffix's own entry included). */
export async function startSlapd(suffix: string, ldif: string, rootPassword: string): Promise<Slapd> {
  if (!slapdAvailable()) throw new Error('slapd is not installed (Debian: apt-get install slapd ldap-utils)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trove-slapd-'));
  const db = path.join(dir, 'db');
  fs.mkdirSync(db);
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=trove-test-slapd', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  fs.chmodSync(key, 0o600);
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(
    conf,
    [
      ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
      `modulepath ${MODULES}`,
      'moduleload back_mdb',
      `pidfile ${path.join(dir, 'slapd.pid')}`,
      `TLSCertificateFile ${cert}`,
      `TLSCertificateKeyFile ${key}`,
      'database mdb',
      'maxsize 16777216',
      `suffix "${suffix}"`,
      `rootdn "cn=admin,${suffix}"`,
      `rootpw ${rootPassword}`,
      `directory ${db}`,
      // Passwords: only binds may use them; everything else is readable by bound users.
      'access to attrs=userPassword by anonymous auth by self write by * none',
      'access to * by users read by anonymous auth',
      '',
    ].join('\n'),
  );
  const data = path.join(dir, 'data.ldif');
  fs.writeFileSync(data, ldif);
  execFileSync(SLAPADD!, ['-f', conf, '-l', data], { stdio: 'pipe' });
  const port = await freePort();
  const tlsPort = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = `ldaps://127.0.0.1:${tlsPort}`;
  const child = spawn(SLAPD!, ['-f', conf, '-h', `${url}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  try {
    await waitForPort(port, child, 15_000);
    await waitForPort(tlsPort, child, 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}: ${stderr.slice(-2000)}`);
  }
  return {
    url,
    ldapsUrl,
    caFile: cert,
    suffix,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
