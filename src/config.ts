// Configuration: command-line flags override environment variables, which override the
// configuration file (--config / TROVE_CONFIG, configFile.ts), which overrides defaults.
// The environment variable names are a public contract (scripts and deployments rely on them).

import os from 'node:os';
import path from 'node:path';
import { NODE_ID_RE } from './store/blob/fs.js';
import { parseCidr, type Cidr } from './authz/policy/ip.js';
import { readConfigFile } from './configFile.js';
import { normalizeDn } from './sts/federation/dn.js';

export interface Config {
  /** host:port to listen on. */
  host: string;
  port: number;
  dataDir: string;
  /** Drives for storage policies (replicas, erasure coding): one data directory per drive (empty: none). */
  dataDirs: string[];
  /** The scrubber reads every stored shard once per this period (ms; 0: never). */
  scrubIntervalMs: number;
  /** The scrubber reads at most this many bytes a second. */
  scrubRate: number;
  rootAccessKey: string | undefined;
  rootSecretKey: string | undefined;
  region: string;
  /** Domains for virtual-hosted-style requests: <bucket>.<domain>. */
  domains: string[];
  logLevel: string;
  /** Objects up to this many bytes are stored inside the metadata record. */
  inlineThreshold: number;
  /** fsync data and metadata before acknowledging a write (never turn off in production). */
  fsync: boolean;
  /** A request body (or header section) that sends nothing for this long fails with RequestTimeout. */
  idleTimeoutMs: number;
  /** Longest validity of a presigned URL, SigV2 and SigV4 (SigV4 never allows more than 7 days). */
  presignMaxSeconds: number;
  /** Proxies whose X-Forwarded-For is believed (aws:SourceIp). */
  trustedProxies: Cidr[];
  /** Size of <data-dir>/reserve, given up when the disk fills so that deletes can still commit. */
  spaceReserve: number;
  /** Below this many free bytes on the data directory's filesystem, writes are refused (507). */
  minFree: number;
  /**
   * What a new bucket starts with. 'compatible': ACLs honoured, the writer owns its objects
   * (ObjectWriter), no public access block — as MinIO, Ceph RGW and S3 before April 2023.
   * 'aws': S3's defaults since April 2023 — BucketOwnerEnforced (ACLs disabled) and all four
   * Block Public Access settings on.
   */
  bucketDefaults: BucketDefaults;
  /** PostgreSQL URL of the metadata store (postgres://…); undefined: embedded SQLite in <data-dir>/meta. */
  metaUrl: string | undefined;
  /** Connections of this process to PostgreSQL. */
  metaPoolSize: number;
  /** This node's id (temporary files live in tmp/<nodeId>/); generated per start when unset. */
  nodeId: string | undefined;
  /** Worker processes sharing the listening socket (1: this process serves). */
  workers: number;
  /** Event notifications older than this are dropped, not delivered (ms). */
  notifyMaxAgeMs: number;
  /** Beyond this many queued notifications, one whose delivery fails is dropped. */
  notifyMaxQueue: number;
  /** Unreferenced blob files older than this are orphans; node temp dirs silent this long are removed (ms). */
  orphanGraceMs: number;
  /**
   * A blob released by the metadata is deleted only this long after (ms): reads on other processes
   * or nodes that found its id a moment before may still be about to open it.
   */
  gcGraceMs: number;
  /** Length of a lifecycle "day" (ms): 86 400 000, shortened for tests (as Ceph's rgw_lc_debug_interval). */
  lifecycleDayMs: number;
  /** Versions this process copies to replication destinations at once. */
  replicationConcurrency: number;
  /** Server access logs: a batch of records is delivered as one log object this long after its first record (ms). */
  logRollMs: number;
  /** Origins allowed to call the service endpoints (ListBuckets, IAM, STS) from a browser; `*` for any. */
  corsOrigins: string[];
  /** Domains of website endpoints on the S3 listener: <bucket>.<website-domain>. */
  websiteDomains: string[];
  /** A separate listener serving buckets as websites, path-style (/<bucket>/<key>); undefined for none. */
  websiteAddress: { host: string; port: number } | undefined;
  /** File holding the master key of server-side encryption (mode 0600); see sse/keys.ts. */
  masterKeyFile: string | undefined;
  /** The master key itself, from TROVE_MASTER_KEY (no flag: a key on a command line leaks). */
  masterKeyEnv: string | undefined;
  /** Accept SSE-C keys over plain HTTP from any client (else: loopback clients, or https through a trusted proxy). */
  sseCAllowHttp: boolean;
  /** Keep Prometheus metrics (request accounting included); off only to measure what they cost. */
  metrics: boolean;
  /** Count requests for usage reports (src/usage/); off only to measure what it costs. */
  usage: boolean;
  /** How often each process adds its request counters to the metadata store (ms): what a crash can lose. */
  usageFlushMs: number;
  /** Usage report rows older than this are pruned (ms). */
  usageRetentionMs: number;
  /** Metrics scrapes must carry `Authorization: Bearer <this file's contents>` (src/observe/endpoints.ts). */
  metricsTokenFile: string | undefined;
  /** Anyone may scrape metrics (else: holders of the token when one is set, else loopback clients). */
  metricsPublic: boolean;
  /** A separate listener serving /metrics and /health/* (undefined: only /_trove/… on the S3 listener). */
  metricsAddress: { host: string; port: number } | undefined;
  /** A separate listener serving the admin API at /admin/v1/ (it is also at /_trove/admin/v1/ on the S3 listener). */
  adminAddress: { host: string; port: number } | undefined;
  /** The audit log: JSON lines appended to this file. */
  auditLog: string | undefined;
  /** The audit log: batches of JSON lines POSTed here. */
  auditWebhook: string | undefined;
  /** HTTPS: the certificate chain and private key files (PEM), reloaded on SIGHUP. */
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** STS AssumeRoleWithLDAPIdentity: the directory and the mapping of its users and groups to roles (sts/federation/ldap.ts); undefined: off. */
  ldap: LdapConfig | undefined;
  /** Extra CA certificates (PEM) trusted when fetching OIDC discovery documents and key sets. */
  oidcCaFile: string | undefined;
}

export interface LdapConfig {
  /** ldap://host:port or ldaps://host:port */
  url: string;
  startTls: boolean;
  /** The lookup account; undefined: searches bind anonymously. */
  bindDn: string | undefined;
  /** File holding the lookup account's password (read at each login, so it can be rotated). */
  bindPasswordFile: string | undefined;
  userBase: string;
  /** `%s`: the user name. */
  userFilter: string;
  /** undefined: groups are not looked up (only user DNs map to roles). */
  groupBase: string | undefined;
  /** `%d`: the user's DN, `%s`: the user name. */
  groupFilter: string;
  /** Extra CA certificates (PEM) for ldaps:// and StartTLS. */
  caFile: string | undefined;
  /** Group or user DN (normalised: ldap.ts normalizeDn) → the ARN of the role its sessions act as. */
  roles: ReadonlyMap<string, string>;
}

export const BUCKET_DEFAULTS = ['compatible', 'aws'] as const;
export type BucketDefaults = (typeof BUCKET_DEFAULTS)[number];

export const DEFAULT_INLINE_THRESHOLD = 128 * 1024;
/** S3 times out a silent client after about 20 s. */
export const DEFAULT_IDLE_TIMEOUT_S = 20;
export const DEFAULT_NOTIFY_MAX_AGE_S = 7 * 24 * 3600;
export const DEFAULT_NOTIFY_MAX_QUEUE = 10_000_000;

/** SigV4's own limit, applied to SigV2 presigned URLs too. */
export const DEFAULT_PRESIGN_MAX_S = 7 * 24 * 3600;
/** Room for SQLite to commit deletes (a few pages each) and checkpoint after a disk filled up. */
export const DEFAULT_SPACE_RESERVE = 64 * 1024 * 1024;
/**
 * Free space is read at most once a second, so writes accepted within that second must still
 * fit: 256 MiB is about a second of writes at local-disk speed, and small next to today's disks.
 */
export const DEFAULT_MIN_FREE = 256 * 1024 * 1024;
export const DEFAULT_META_POOL = 10;

/** Orphaned blob files and dead nodes' temporary directories: removed after an hour. */
export const DEFAULT_ORPHAN_GRACE_S = 3600;
/** Grace before a released blob is deleted when several processes or nodes share the data (see workers/gc.ts). */
export const DEFAULT_SHARED_GC_GRACE_S = 300;

export interface OptionSpec {
  flag: string;
  env?: string;
  arg?: string;
  help: string;
  /** How a list given in the configuration file joins into the flag's value (default ","). */
  listSeparator?: string;
  /** The configuration file may give a mapping, joined as `key=value` entries with listSeparator. */
  mapping?: boolean;
}

export const DEFAULT_LDAP_USER_FILTER = '(uid=%s)';
export const DEFAULT_LDAP_GROUP_FILTER = '(&(objectClass=groupOfNames)(member=%d))';

export const OPTIONS: OptionSpec[] = [
  { flag: 'config', env: 'TROVE_CONFIG', arg: 'file', help: 'read settings from this YAML (or JSON) file: one key per flag, named as the flag without "--"; flags and environment variables override it' },
  { flag: 'address', env: 'TROVE_ADDRESS', arg: 'host:port', help: 'address to listen on (default 127.0.0.1:9000)' },
  { flag: 'data-dir', env: 'TROVE_DATA_DIR', arg: 'dir', help: 'where metadata and object data live (default ./data)' },
  { flag: 'data-dirs', env: 'TROVE_DATA_DIRS', arg: 'd1,d2,…', help: 'drives (one directory each) that storage policies (replicas N, ec K+M) place copies and shards on; objects of buckets without a policy stay in --data-dir' },
  { flag: 'scrub-interval', env: 'TROVE_SCRUB_INTERVAL', arg: 'seconds', help: 'read and verify every shard and replica on the drives once per this period, healing what is damaged (default 604800, a week; 0: never)' },
  { flag: 'scrub-rate', env: 'TROVE_SCRUB_RATE', arg: 'bytes/s', help: 'the scrubber reads at most this many bytes a second (default 52428800)' },
  { flag: 'meta', env: 'TROVE_META_URL', arg: 'postgres://…', help: 'keep metadata in this PostgreSQL database instead of SQLite in <data-dir>/meta (several nodes may share it)' },
  { flag: 'meta-pool', env: 'TROVE_META_POOL', arg: 'n', help: `connections to PostgreSQL per process (default ${DEFAULT_META_POOL})` },
  { flag: 'root-access-key', env: 'TROVE_ROOT_ACCESS_KEY', arg: 'key', help: 'access key id of the root user (generated on first start if unset)' },
  { flag: 'root-secret-key', env: 'TROVE_ROOT_SECRET_KEY', arg: 'secret', help: 'secret access key of the root user' },
  { flag: 'region', env: 'TROVE_REGION', arg: 'name', help: 'region this server answers for (default us-east-1)' },
  { flag: 'domain', env: 'TROVE_DOMAIN', arg: 'd1,d2', help: 'domains for virtual-hosted-style bucket addressing, comma-separated' },
  { flag: 'log-level', env: 'TROVE_LOG_LEVEL', arg: 'level', help: 'trace|debug|info|warn|error|fatal|silent (default info)' },
  { flag: 'log-roll-seconds', env: 'TROVE_LOG_ROLL_SECONDS', arg: 'seconds', help: 'server access logs: a log object is delivered this long after its first record (default 300)' },
  { flag: 'inline-threshold', env: 'TROVE_INLINE_THRESHOLD', arg: 'bytes', help: `objects up to this size are kept in the metadata store (default ${DEFAULT_INLINE_THRESHOLD})` },
  { flag: 'no-fsync', env: 'TROVE_NO_FSYNC', help: 'do not fsync before acknowledging writes (unsafe; for throwaway test servers only)' },
  { flag: 'trusted-proxies', env: 'TROVE_TRUSTED_PROXIES', arg: 'cidr,cidr', help: 'proxies (addresses or CIDR ranges) whose X-Forwarded-For gives the client address bucket policies see (default: none)' },
  { flag: 'idle-timeout', env: 'TROVE_IDLE_TIMEOUT', arg: 'seconds', help: `answer RequestTimeout to a client that sends nothing for this long mid-request (default ${DEFAULT_IDLE_TIMEOUT_S})` },
  { flag: 'presign-max-expiry', env: 'TROVE_PRESIGN_MAX_EXPIRY', arg: 'seconds', help: `longest validity of a presigned URL, SigV2 included (default and SigV4 maximum ${DEFAULT_PRESIGN_MAX_S})` },
  { flag: 'space-reserve', env: 'TROVE_SPACE_RESERVE', arg: 'bytes', help: `space held in <data-dir>/reserve and released when the disk fills, so deletes still work (default ${DEFAULT_SPACE_RESERVE})` },
  { flag: 'min-free', env: 'TROVE_MIN_FREE', arg: 'bytes', help: `refuse writes (507 InsufficientStorage) below this much free space (default ${DEFAULT_MIN_FREE})` },
  { flag: 'cors-origins', env: 'TROVE_CORS_ORIGINS', arg: 'o1,o2', help: 'origins a browser may call the service endpoints (ListBuckets, IAM, STS) from, comma-separated; * for any (buckets have their own CORS configuration)' },
  { flag: 'website-domain', env: 'TROVE_WEBSITE_DOMAIN', arg: 'd1,d2', help: 'domains of website endpoints: <bucket>.<domain> on this address serves the bucket as a static website' },
  { flag: 'website-address', env: 'TROVE_WEBSITE_ADDRESS', arg: 'host:port', help: 'also listen here for website requests, path-style (/<bucket>/<key>) (default: no such listener)' },
  { flag: 'master-key-file', env: 'TROVE_MASTER_KEY_FILE', arg: 'file', help: 'the 32-byte master key of server-side encryption (64 hex digits or base64), in a file of mode 0600; or set TROVE_MASTER_KEY' },
  { flag: 'sse-c-allow-http', env: 'TROVE_SSE_C_ALLOW_HTTP', help: 'accept customer keys (SSE-C) over plain HTTP from any client (default: only from loopback clients, or with X-Forwarded-Proto: https from a trusted proxy)' },
  { flag: 'bucket-defaults', env: 'TROVE_BUCKET_DEFAULTS', arg: 'compatible|aws', help: 'settings of new buckets: compatible (ACLs honoured, ObjectWriter, no public access block; default) or aws (BucketOwnerEnforced, all Block Public Access settings on)' },
  { flag: 'workers', env: 'TROVE_WORKERS', arg: 'n', help: 'worker processes sharing the listening socket (default: the number of cores less one, at least 1; 1 serves from this process)' },
  { flag: 'node-id', env: 'TROVE_NODE_ID', arg: 'id', help: 'this node\'s id (letters, digits, - and _); its temporary files live in <data-dir>/tmp/<id>/ (default: generated at each start)' },
  { flag: 'orphan-grace', env: 'TROVE_ORPHAN_GRACE', arg: 'seconds', help: `unreferenced blob files older than this are removed, and the temporary files of nodes not heard from for this long (default ${DEFAULT_ORPHAN_GRACE_S})` },
  { flag: 'gc-grace', env: 'TROVE_GC_GRACE', arg: 'seconds', help: `delete a released blob only this long after its release, for reads in flight on other processes or nodes (default: 0 with one process, ${DEFAULT_SHARED_GC_GRACE_S} with several workers)` },
  { flag: 'no-metrics', env: 'TROVE_NO_METRICS', help: 'keep no Prometheus metrics (to measure their cost; the metrics endpoints then answer 404)' },
  { flag: 'no-usage', env: 'TROVE_NO_USAGE', help: 'count no requests for usage reports (to measure their cost; hourly storage snapshots go on)' },
  { flag: 'usage-flush', env: 'TROVE_USAGE_FLUSH', arg: 'seconds', help: 'each process adds its usage counters to the metadata store this often; a crash loses at most this much of them (default 10)' },
  { flag: 'usage-retention-days', env: 'TROVE_USAGE_RETENTION_DAYS', arg: 'days', help: 'keep hourly usage report rows this many days (default 90)' },
  { flag: 'metrics-token-file', env: 'TROVE_METRICS_TOKEN_FILE', arg: 'file', help: 'scrapes of /_trove/metrics (and /metrics on --metrics-address) need "Authorization: Bearer <the file\'s contents>"; re-read on SIGHUP' },
  { flag: 'metrics-public', env: 'TROVE_METRICS_PUBLIC', help: 'anyone may scrape metrics (default: holders of the --metrics-token-file token when one is set, else loopback clients)' },
  { flag: 'metrics-address', env: 'TROVE_METRICS_ADDRESS', arg: 'host:port', help: 'also serve /metrics and /health/live, /health/ready on this separate listener' },
  { flag: 'admin-address', env: 'TROVE_ADMIN_ADDRESS', arg: 'host:port', help: 'also serve the admin API at /admin/v1/ on this separate listener (HTTPS with --tls-cert); it is always at /_trove/admin/v1/ on the S3 listener' },
  { flag: 'audit-log', env: 'TROVE_AUDIT_LOG', arg: 'file', help: 'append an audit record (who, from where, what, the authorisation decision, the status) per S3 request to this file, as JSON lines' },
  { flag: 'audit-webhook', env: 'TROVE_AUDIT_WEBHOOK', arg: 'url', help: 'POST audit records to this URL in batches (application/x-ndjson), retried in the background' },
  { flag: 'tls-cert', env: 'TROVE_TLS_CERT', arg: 'file', help: 'serve HTTPS with this certificate chain (PEM); with --tls-key; both re-read on SIGHUP' },
  { flag: 'tls-key', env: 'TROVE_TLS_KEY', arg: 'file', help: 'the private key (PEM) of --tls-cert' },
  { flag: 'replication-concurrency', env: 'TROVE_REPLICATION_CONCURRENCY', arg: 'n', help: 'versions each process copies to replication destinations at once (default 32)' },
  { flag: 'lifecycle-day-seconds', env: 'TROVE_LIFECYCLE_DAY_SECONDS', arg: 'seconds', help: 'length of a lifecycle day (default 86400); shorten it only to test lifecycle rules (Ceph: rgw_lc_debug_interval)' },
  { flag: 'notify-max-age', env: 'TROVE_NOTIFY_MAX_AGE', arg: 'seconds', help: `event notifications not delivered within this time are dropped, logged and counted (default ${DEFAULT_NOTIFY_MAX_AGE_S}, 7 days)` },
  { flag: 'notify-max-queue', env: 'TROVE_NOTIFY_MAX_QUEUE', arg: 'n', help: `beyond this many queued event notifications, one whose delivery fails is dropped, logged and counted (default ${DEFAULT_NOTIFY_MAX_QUEUE})` },
  { flag: 'ldap-url', env: 'TROVE_LDAP_URL', arg: 'ldap[s]://host:port', help: 'the LDAP or Active Directory server of STS AssumeRoleWithLDAPIdentity (default: LDAP logins off)' },
  { flag: 'ldap-start-tls', env: 'TROVE_LDAP_START_TLS', help: 'upgrade the ldap:// connection with StartTLS before binding' },
  { flag: 'ldap-bind-dn', env: 'TROVE_LDAP_BIND_DN', arg: 'dn', help: 'the lookup account that searches users and groups (default: anonymous searches)' },
  { flag: 'ldap-bind-password-file', env: 'TROVE_LDAP_BIND_PASSWORD_FILE', arg: 'file', help: "file holding the lookup account's password (read at each login)" },
  { flag: 'ldap-user-base', env: 'TROVE_LDAP_USER_BASE', arg: 'dn', help: 'where users are searched (required with --ldap-url)' },
  { flag: 'ldap-user-filter', env: 'TROVE_LDAP_USER_FILTER', arg: 'filter', help: `finds a user's entry, %s being the user name (default ${DEFAULT_LDAP_USER_FILTER})` },
  { flag: 'ldap-group-base', env: 'TROVE_LDAP_GROUP_BASE', arg: 'dn', help: "where the user's groups are searched (default: groups are not looked up)" },
  { flag: 'ldap-group-filter', env: 'TROVE_LDAP_GROUP_FILTER', arg: 'filter', help: `finds a user's groups, %d being the user's DN and %s the user name (default ${DEFAULT_LDAP_GROUP_FILTER})` },
  { flag: 'ldap-roles', env: 'TROVE_LDAP_ROLES', arg: 'dn=role-arn;…', listSeparator: ';', mapping: true, help: 'the role the sessions of the members of a group (or of a user) act as: group or user DN = role ARN, entries separated by ";"' },
  { flag: 'ldap-ca-file', env: 'TROVE_LDAP_CA_FILE', arg: 'file', help: 'extra CA certificates (PEM) trusted for ldaps:// and StartTLS' },
  { flag: 'oidc-ca-file', env: 'TROVE_OIDC_CA_FILE', arg: 'file', help: "extra CA certificates (PEM) trusted when fetching OpenID Connect providers' discovery documents and keys" },
];

export class ConfigError extends Error {}

function usageRetentionDays(v: string | undefined): number {
  if (v === undefined || v === '') return 90;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--usage-retention-days must be a positive number of days, got "${v}"`);
  return n;
}

function replicationConcurrency(v: string | undefined): number {
  if (v === undefined) return 32;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new ConfigError(`--replication-concurrency must be a whole number from 1 to 1024, got "${v}"`);
  return n;
}

function lifecycleDay(v: string | undefined): number {
  if (v === undefined || v === '') return 86_400_000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1) throw new ConfigError(`--lifecycle-day-seconds must be a number of seconds of at least 1, got "${v}"`);
  return Math.round(n * 1000);
}

/** Parses `--flag value`, `--flag=value` and boolean `--no-fsync` style arguments. */
export function parseFlags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const spec = OPTIONS.find((o) => o.flag === name);
    if (!spec) throw new ConfigError(`unknown option: --${name}`);
    if (!spec.arg) {
      out.set(name, eq >= 0 ? a.slice(eq + 1) : 'true');
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value (${spec.arg})`);
    out.set(name, value);
  }
  return out;
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

export function parseAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr.trim());
  if (!m) {
    if (/^\d+$/.test(addr.trim())) return { host: '127.0.0.1', port: Number(addr) };
    throw new ConfigError(`address must be host:port, got "${addr}"`);
  }
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`port out of range: ${port}`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** `dn=arn:…` entries separated by ";" or new lines: DN (normalised) → role ARN. */
function ldapRoles(v: string | undefined, normalize: (dn: string) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of (v ?? '').split(/[;\n]/).map((e) => e.trim()).filter(Boolean)) {
    const m = /^(.+?)\s*=\s*(arn:aws:iam::\d{12}:role\/\S+)$/.exec(entry);
    if (!m) throw new ConfigError(`--ldap-roles: each entry is a group or user DN, "=", and a role ARN (arn:aws:iam::<account>:role/<name>), got "${entry}"`);
    out.set(normalize(m[1]!), m[2]!);
  }
  return out;
}

function ldapConfig(get: (flag: string) => string | undefined): LdapConfig | undefined {
  const url = get('ldap-url') || undefined;
  const others = OPTIONS.filter((o) => o.flag.startsWith('ldap-') && o.flag !== 'ldap-url' && get(o.flag));
  if (url === undefined) {
    if (others.length > 0) throw new ConfigError(`--${others[0]!.flag} is set but --ldap-url is not`);
    return undefined;
  }
  if (!/^ldaps?:\/\/[^/?#]+\/?$/i.test(url)) throw new ConfigError(`--ldap-url must be ldap://host[:port] or ldaps://host[:port], got "${url}"`);
  const startTls = truthy(get('ldap-start-tls'));
  if (startTls && /^ldaps:/i.test(url)) throw new ConfigError('--ldap-start-tls is for ldap:// URLs (ldaps:// is TLS from the start)');
  const userBase = get('ldap-user-base');
  if (!userBase) throw new ConfigError('--ldap-url needs --ldap-user-base (where users are searched)');
  const bindDn = get('ldap-bind-dn') || undefined;
  const bindPasswordFile = get('ldap-bind-password-file') || undefined;
  if ((bindDn === undefined) !== (bindPasswordFile === undefined)) throw new ConfigError('set both --ldap-bind-dn and --ldap-bind-password-file, or neither (anonymous searches)');
  const userFilter = get('ldap-user-filter') || DEFAULT_LDAP_USER_FILTER;
  if (!userFilter.includes('%s')) throw new ConfigError('--ldap-user-filter must contain %s (the user name)');
  const roles = ldapRoles(get('ldap-roles'), normalizeDn);
  if (roles.size === 0) throw new ConfigError('--ldap-url needs --ldap-roles: which role the members of which group act as');
  return {
    url: url.replace(/\/$/, ''),
    startTls,
    bindDn,
    bindPasswordFile: bindPasswordFile && path.resolve(bindPasswordFile),
    userBase,
    userFilter,
    groupBase: get('ldap-group-base') || undefined,
    groupFilter: get('ldap-group-filter') || DEFAULT_LDAP_GROUP_FILTER,
    caFile: get('ldap-ca-file') ? path.resolve(get('ldap-ca-file')!) : undefined,
    roles,
  };
}

export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const flags = parseFlags(argv);
  const configFile = flags.get('config') ?? (env['TROVE_CONFIG'] || undefined);
  const file = configFile === undefined ? new Map<string, string>() : readConfigFile(configFile, OPTIONS);
  const get = (flag: string): string | undefined => {
    const spec = OPTIONS.find((o) => o.flag === flag)!;
    return flags.get(flag) ?? (spec.env ? env[spec.env] : undefined) ?? file.get(flag);
  };
  const { host, port } = parseAddress(get('address') ?? '127.0.0.1:9000');
  const bytes = (flag: string, fallback: number): number => {
    const raw = get(flag);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`--${flag} must be a non-negative integer (bytes), got "${raw}"`);
    return n;
  };
  const accessKey = get('root-access-key') || undefined;
  const secretKey = get('root-secret-key') || undefined;
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    throw new ConfigError('set both the root access key and the root secret key, or neither');
  }
  if (accessKey !== undefined && (accessKey.length < 3 || accessKey.length > 128 || !/^[\x21-\x7e]+$/.test(accessKey))) {
    throw new ConfigError('root access key must be 3-128 printable ASCII characters');
  }
  if (secretKey !== undefined && secretKey.length < 8) {
    throw new ConfigError('root secret key must be at least 8 characters');
  }
  const seconds = (flag: string, dflt: number, max = Infinity): number => {
    const v = get(flag);
    const n = v === undefined || v === '' ? dflt : Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max) throw new ConfigError(`--${flag} must be a positive number of seconds${max < Infinity ? ` up to ${max}` : ''}, got "${v}"`);
    return n;
  };
  const trustedProxies = (get('trusted-proxies') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const c = parseCidr(s);
      if (!c) throw new ConfigError(`--trusted-proxies: not an address or CIDR range: "${s}"`);
      return c;
    });
  const domains = (get('domain') ?? '')
    .split(',')
    .map((d) => d.trim().toLowerCase().replace(/^\.+|\.+$/g, ''))
    .filter(Boolean);
  const count = (flag: string, fallback: number, min: number): number => {
    const raw = get(flag);
    const n = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`--${flag} must be an integer ≥ ${min}, got "${raw}"`);
    return n;
  };
  const secondsOrZero = (flag: string, dflt: number): number => {
    const v = get(flag);
    const n = v === undefined || v === '' ? dflt : Number(v);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(`--${flag} must be a non-negative number of seconds, got "${v}"`);
    return Math.round(n * 1000);
  };
  // One core is left to the kernel's network and disk work, fsyncs, SQLite's checkpointer and a
  // local PostgreSQL: on two cores that is one process (README, *Several processes*).
  const workers = count('workers', Math.max(1, os.availableParallelism() - 1), 1);
  const nodeId = get('node-id') || undefined;
  if (nodeId !== undefined && !NODE_ID_RE.test(nodeId)) throw new ConfigError(`--node-id must be 1-64 letters, digits, - or _, got "${nodeId}"`);
  const bucketDefaults = get('bucket-defaults') || 'compatible';
  if (!(BUCKET_DEFAULTS as readonly string[]).includes(bucketDefaults)) throw new ConfigError(`--bucket-defaults must be compatible or aws, got "${bucketDefaults}"`);
  const metaUrl = get('meta') || undefined;
  if (metaUrl !== undefined && !/^postgres(ql)?:\/\//i.test(metaUrl)) throw new ConfigError(`--meta must be a postgres:// or postgresql:// URL, got "${metaUrl.replace(/\/\/[^@/]*@/, '//…@')}"`);
  const tlsCert = get('tls-cert') || undefined;
  const tlsKey = get('tls-key') || undefined;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new ConfigError('set both --tls-cert and --tls-key, or neither');
  const auditWebhook = get('audit-webhook') || undefined;
  if (auditWebhook !== undefined && !/^https?:\/\//i.test(auditWebhook)) throw new ConfigError(`--audit-webhook must be an http:// or https:// URL, got "${auditWebhook}"`);
  const metaPoolSize = bytes('meta-pool', DEFAULT_META_POOL);
  if (metaPoolSize < 1) throw new ConfigError('--meta-pool must be at least 1');
  return {
    host,
    port,
    dataDir: path.resolve(get('data-dir') ?? 'data'),
    dataDirs: list(get('data-dirs')).map((d) => path.resolve(d)),
    scrubIntervalMs: secondsOrZero('scrub-interval', 7 * 86400),
    scrubRate: Math.max(1, bytes('scrub-rate', 50 * 1024 * 1024)),
    rootAccessKey: accessKey,
    rootSecretKey: secretKey,
    region: get('region') || 'us-east-1',
    domains,
    logLevel: get('log-level') || 'info',
    inlineThreshold: bytes('inline-threshold', DEFAULT_INLINE_THRESHOLD),
    fsync: !truthy(get('no-fsync')),
    trustedProxies,
    idleTimeoutMs: Math.round(seconds('idle-timeout', DEFAULT_IDLE_TIMEOUT_S) * 1000),
    presignMaxSeconds: Math.floor(seconds('presign-max-expiry', DEFAULT_PRESIGN_MAX_S, DEFAULT_PRESIGN_MAX_S)),
    spaceReserve: bytes('space-reserve', DEFAULT_SPACE_RESERVE),
    minFree: bytes('min-free', DEFAULT_MIN_FREE),
    bucketDefaults: bucketDefaults as BucketDefaults,
    metaUrl,
    metaPoolSize,
    nodeId,
    workers,
    notifyMaxAgeMs: Math.round(seconds('notify-max-age', DEFAULT_NOTIFY_MAX_AGE_S) * 1000),
    notifyMaxQueue: count('notify-max-queue', DEFAULT_NOTIFY_MAX_QUEUE, 1),
    orphanGraceMs: secondsOrZero('orphan-grace', DEFAULT_ORPHAN_GRACE_S),
    // Several workers, or a PostgreSQL store (other nodes may share the data directory), share blobs.
    logRollMs: Math.max(100, secondsOrZero('log-roll-seconds', 300)),
    gcGraceMs: secondsOrZero('gc-grace', workers > 1 || metaUrl !== undefined ? DEFAULT_SHARED_GC_GRACE_S : 0),
    lifecycleDayMs: lifecycleDay(get('lifecycle-day-seconds')),
    replicationConcurrency: replicationConcurrency(get('replication-concurrency')),
    corsOrigins: list(get('cors-origins')),
    websiteDomains: list(get('website-domain')).map((d) => d.toLowerCase().replace(/^\.+|\.+$/g, '')).filter(Boolean),
    websiteAddress: get('website-address') ? parseAddress(get('website-address')!) : undefined,
    masterKeyFile: get('master-key-file') ? path.resolve(get('master-key-file')!) : undefined,
    masterKeyEnv: env['TROVE_MASTER_KEY'] || undefined,
    sseCAllowHttp: truthy(get('sse-c-allow-http')),
    metrics: !truthy(get('no-metrics')),
    usage: !truthy(get('no-usage')),
    usageFlushMs: Math.round(seconds('usage-flush', 10, 3600) * 1000),
    usageRetentionMs: usageRetentionDays(get('usage-retention-days')) * 86_400_000,
    metricsTokenFile: get('metrics-token-file') ? path.resolve(get('metrics-token-file')!) : undefined,
    metricsPublic: truthy(get('metrics-public')),
    metricsAddress: get('metrics-address') ? parseAddress(get('metrics-address')!) : undefined,
    adminAddress: get('admin-address') ? parseAddress(get('admin-address')!) : undefined,
    auditLog: get('audit-log') ? path.resolve(get('audit-log')!) : undefined,
    auditWebhook,
    tlsCert: tlsCert && path.resolve(tlsCert),
    tlsKey: tlsKey && path.resolve(tlsKey),
    ldap: ldapConfig(get),
    oidcCaFile: get('oidc-ca-file') ? path.resolve(get('oidc-ca-file')!) : undefined,
  };
}
