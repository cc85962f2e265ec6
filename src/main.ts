#!/usr/bin/env node
// The `trove` command: `trove server …` runs a node; `trove admin …` manages accounts and their
// IAM users offline, on the data directory.

import { driveCommand, policyCommand, PolicyError } from './storage/admin.js';
import { checkTarget, loadTargets, readCa, redact, type TargetDef, type TargetType } from './notify/targets.js';
import cluster from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuiltinKeyService, KeyError, MasterKeyError, loadMasterKey, type KmsKey } from './sse/keys.js';
import { pino } from 'pino';
import { runPrimary, workerNodeId } from './cluster.js';
import { ConfigError, OPTIONS, loadConfig, type Config } from './config.js';
import { openStores, startTrove, type RootCredentials } from './trove.js';
import { IamService, userArn } from './iam/service.js';
import { RULES, ruleViolation } from './iam/names.js';
import type { MetaStore, Quota, Usage } from './store/meta/types.js';
import { TierError, TierRegistry, describeTier } from './tiering/tiers.js';
import { RemoteError, RemoteRegistry, describeRemote } from './replication/remotes.js';
import { replicationBacklog, resync } from './replication/service.js';
import { deserializeReplication } from './replication/config.js';
import { CliError, parseArgs, runRemote, takeConnection, tokenLine, tokenRequest } from './admin/cli.js';
import { AdminApiError } from './admin/client.js';
import { AdminError } from './admin/errors.js';
import { AdminTokens } from './admin/tokens.js';
import * as svc from './admin/service.js';
import { CLASS_OF, parseUsageQuery, UsageQueryError, usageReport } from './usage/index.js';

// Blob writes, fdatasyncs and reads all run on libuv's thread pool; 4 threads (the default)
// serialise concurrent uploads behind each other's fsyncs. Must be set before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

const USAGE = `Usage: trove <command> [options]

Commands:
  server              run the S3 server (and the IAM API and the admin API, on the same address)
  admin account add   create an account with a root access key (works on the data directory directly)
  admin account list  list accounts
  admin user add      create an IAM user of an account, with its first access key
  admin user list     list an account's IAM users
  admin tier add|list|remove   remote tiers (any S3 endpoint) that lifecycle transitions move data to
  admin work          the work engine's queue: depth, lag and failures by kind
  admin policy add|list|remove|default   storage policies (replicas N, ec K+M) over the drives (--data-dirs)
  admin drive         the drives' health and usage, the heal queue and the scrubber's progress
  admin remote        replication destinations: add, list, remove
  admin target        event notification targets (webhook, amqp, redis, nats, mqtt, postgres)
  admin replication   replication: status (lag and pending bytes per rule), resync BUCKET
  admin quota         set, show or clear a bucket's or an account's storage quota
  admin usage         bytes and objects stored, by bucket or account
  admin usage report  hourly or daily usage reports (requests by class, bytes in/out, errors, storage), JSON or CSV
  admin qos           set, show or clear an account's or an IAM user's request and byte rates
  admin token         admin API tokens: create (scoped, expiring), list, revoke
  admin bucket        list buckets (owner, versioning, usage, quota), show one
  admin key           an account root's or IAM user's access keys (with --admin-url)

With --admin-url URL (or TROVE_ADMIN_URL) admin commands run on a running server through its
admin API (see "trove admin --help").

Run "trove server --help" or "trove admin --help" for options.
`;

function serverHelp(): string {
  const lines = OPTIONS.map((o) => {
    const flag = `--${o.flag}${o.arg ? ` <${o.arg}>` : ''}`;
    return `  ${flag.padEnd(30)} ${o.help}${o.env ? `\n  ${''.padEnd(30)} env ${o.env}` : ''}`;
  });
  return `Usage: trove server [options]\n\nStarts an S3-compatible server.\n\nOptions:\n${lines.join('\n')}\n  --help                         show this help\n`;
}

const ADMIN_HELP = `Usage:
  trove admin account add --name <name> [--email <address>] [--account-id <12 digits>] [--id <canonical id>]
                          [--access-key <id>] [--secret-key <secret>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin account list [--data-dir <dir>] [--meta <postgres://…>]
  trove admin user add --account <12 digits> --name <user name> [--path </path/>]
                       [--access-key <id> --secret-key <secret>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin user list --account <12 digits> [--data-dir <dir>] [--meta <postgres://…>]
  trove admin kms create [--id <key id>] [--alias <name>] [--description <text>] [--data-dir <dir>] [--meta <postgres://…>] [--master-key-file <file>]
  trove admin kms list|disable|enable|rotate [--key <id, alias/name or ARN>] [--data-dir <dir>] [--meta <postgres://…>] [--master-key-file <file>]
  trove admin kms rotate-master --new-master-key-file <file> [--data-dir <dir>] [--meta <postgres://…>] [--master-key-file <file>]
  trove admin tier add <name> --endpoint <url> --bucket <bucket> [--prefix <prefix>] --access-key <id> --secret-key <secret>
        [--region <region>] [--archive] [--storage-class <CLASS>]… [--data-dir <dir>] [--meta <postgres://…>] [--master-key-file <file>]
  trove admin tier list|remove [<name>] [--data-dir <dir>] [--meta <postgres://…>] [--master-key-file <file>]
  trove admin work [--json] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin policy add <name> "replicas N" | "ec K+M" [--data-dir <dir>] [--data-dirs <d1,d2,…>] [--meta <postgres://…>]
  trove admin policy list | remove <name> | default <name|single> [--data-dir <dir>] [--meta <postgres://…>]
  trove admin drive [--json] [--data-dir <dir>] [--data-dirs <d1,d2,…>] [--meta <postgres://…>]
  trove admin remote add <name> --endpoint <url> --access-key <id> --secret-key <secret> --buckets <b1,b2>
                         [--region <region>] [--data-dir <dir>] [--meta <postgres://…>] [--master-key-file <file>]
  trove admin remote list|remove [<name>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin replication status [--json] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin replication resync <bucket> [--data-dir <dir>] [--meta <postgres://…>]
  trove admin target add --name <name> --type webhook|amqp|redis|nats|mqtt|postgres --endpoint <url>
                         [--destination <queue|key|subject|topic|table>] [--exchange <amqp exchange>]
                         [--format list|stream] [--token <bearer token>] [--ca <PEM file>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin target list|remove [--name <name>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin quota set --bucket <name>|--account <12 digits> [--max-bytes <n>] [--max-objects <n>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin quota show|clear --bucket <name>|--account <12 digits> [--data-dir <dir>] [--meta <postgres://…>]
  trove admin usage [--bucket <name>|--account <12 digits>] [--json] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin usage report [--from <ISO time>] [--to <ISO time>] [--account <12 digits>] [--bucket <name>] [--user <ARN>|anonymous]
                           [--granularity hour|day] [--format json|csv] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin usage classes   the operation class (A, B, free) of every S3 operation
  trove admin qos set --account <12 digits>|--user <IAM user ARN> [--rps <n>] [--up-bps <n>] [--down-bps <n>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin qos show|clear --account <12 digits>|--user <IAM user ARN> [--data-dir <dir>] [--meta <postgres://…>]
  trove admin token create --name <name> --action <admin:Action>… [--resource <arn:trove:admin:::path>…]
                           [--expires-in <3600|90m|12h|30d>] [--data-dir <dir>] [--meta <postgres://…>]
  trove admin token list|revoke [--id <token id>] [--data-dir <dir>] [--meta <postgres://…>]

  trove admin bucket list [--account <12 digits>] | show <bucket> [--data-dir <dir>] [--meta <postgres://…>]
  trove admin key list|create --account <12 digits> [--user <IAM user name>] --admin-url <url> …
  trove admin key activate|deactivate|delete --account <12 digits> [--user <name>] --id <access key id> --admin-url <url> …

Through a running server's admin API instead of the data directory (account, user, key, bucket,
kms except rotate-master, tier, remote, target, quota, usage, qos, work, replication, token):
  trove admin … --admin-url <server URL> [--admin-token <token> | --admin-access-key <id> --admin-secret-key <secret>]
                [--admin-region <region>]
  (or TROVE_ADMIN_URL, TROVE_ADMIN_TOKEN, TROVE_ADMIN_ACCESS_KEY / TROVE_ADMIN_SECRET_KEY or
  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, TROVE_ADMIN_REGION or AWS_REGION). The credentials are
  an identity of the server's root account allowed the command's admin actions, or an admin token.

An account owns buckets; the keys "account add" prints are its root user's. Ids and keys are
generated when not given (give them to pre-provision test suites or migrations).
An IAM user belongs to an account and can do nothing until a policy allows it (aws iam
put-user-policy, as the account's root); "user add" prints its first access key.
KMS keys (SSE-KMS; the SSE-S3 key is one of them) are wrapped by the master key: --master-key-file
(mode 0600) or TROVE_MASTER_KEY. "rotate" adds a key version (new objects use it, old ones keep
theirs); "rotate-master" re-wraps every key version under a new master key (restart the server
with the new one afterwards; tier and replication remote secrets are re-sealed too).
A tier is a bucket (and key prefix) of any S3 endpoint (AWS, another Trove, MinIO, Ceph) that
object data moves to when a lifecycle Transition names one of its storage classes; an --archive
tier's objects need RestoreObject before they can be read, others are read through. Its secret key
is sealed under the master key when one is configured, and never printed.
A remote is a replication destination: an S3 endpoint and the keys replication writes with there,
and the destination buckets it holds (a rule's arn:aws:s3:::bucket resolves to the remote listing
that bucket). Its secret key is sealed under the master key when one is configured, never printed.
"replication resync" queues every existing version of the bucket its rules match (versions the
destination has already are skipped); "replication status" shows, per bucket and rule, the
versions waiting, their bytes, the failing ones and the age of the oldest (the lag).
The data directory defaults to TROVE_DATA_DIR or ./data; with --meta (or TROVE_META_URL) the
accounts, users and keys are those of that PostgreSQL database. A running server sees changes made here
within about 100 ms.
`;

function out(s: string): void {
  process.stdout.write(s);
}

function printGenerated(config: Config, root: RootCredentials, port: number): void {
  if (!root.generated) return;
  const endpoint = `${config.tlsCert ? 'https' : 'http'}://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  out(
    `\nTrove generated root credentials (saved in ${root.file}; shown only this once):\n` +
      `  Access key: ${root.accessKeyId}\n  Secret key: ${root.secretAccessKey}\n\n` +
      `Try it with the AWS CLI:\n` +
      `  export AWS_ACCESS_KEY_ID=${root.accessKeyId}\n` +
      `  export AWS_SECRET_ACCESS_KEY='${root.secretAccessKey}'\n` +
      `  export AWS_DEFAULT_REGION=${config.region}\n` +
      `  aws --endpoint-url ${endpoint} s3 mb s3://my-bucket\n` +
      `  aws --endpoint-url ${endpoint} s3 cp ./README.md s3://my-bucket/\n\n`,
  );
}

async function runServer(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(serverHelp());
    return;
  }
  const config = loadConfig(argv);
  // Whatever the stores create is for this process alone (each also passes 0700/0600 itself).
  process.umask(0o077);
  if (cluster.isPrimary && config.workers > 1) {
    const log = pino({ level: config.logLevel, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
    const primary = await runPrimary(config, fileURLToPath(import.meta.url), ['server', ...argv], log);
    printGenerated(config, primary.root, config.port);
    const code = await primary.done;
    log.info('stopped');
    log.flush?.();
    process.exit(code);
  }
  const nodeId = workerNodeId();
  if (nodeId) config.nodeId = nodeId;
  const trove = await startTrove(config);
  if (!cluster.isWorker) printGenerated(config, trove.root, trove.port);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      if (signal === 'shutdown' || signal === 'primary gone') return;
      trove.app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    trove.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    trove.close().then(
      () => {
        trove.app.log.info('stopped');
        trove.app.log.flush?.();
        process.exit(0);
      },
      (e: unknown) => {
        trove.app.log.error({ err: e }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // SIGHUP: the TLS certificate and key, and the metrics token, are read again (a worker gets it
  // from the primary, which forwards its own).
  const reload = (from: string) => {
    try {
      trove.reload();
      trove.app.log.info({ from }, 'reloaded the TLS certificate and the metrics token');
    } catch (e) {
      trove.app.log.error({ err: e, from }, 'reload failed; keeping the previous certificate');
    }
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  if (cluster.isWorker) {
    process.on('message', (m: { type?: string }) => m?.type === 'reload' && reload('primary'));
    // The primary decides: a terminal's Ctrl-C reaches the whole process group, and the primary
    // then asks each worker to stop (once). A primary that is gone leaves its workers to stop.
    process.on('SIGINT', () => undefined);
    process.on('message', (m: { type?: string }) => m?.type === 'shutdown' && stop('shutdown'));
    process.on('disconnect', () => stop('primary gone'));
  } else {
    process.on('SIGINT', () => stop('SIGINT'));
  }
}

function takeFlags(argv: string[], allowed: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : '';
    if (!allowed.includes(name)) throw new ConfigError(`unexpected argument: ${a}`);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    m.set(name, value);
  }
  return m;
}

const ADMIN_FLAGS = {
  account: { add: ['name', 'email', 'account-id', 'id', 'access-key', 'secret-key', 'data-dir', 'meta'], list: ['data-dir', 'meta'] },
  user: { add: ['account', 'name', 'path', 'access-key', 'secret-key', 'data-dir', 'meta'], list: ['account', 'data-dir', 'meta'] },
} as const;

const KMS_FLAGS: Record<string, string[]> = {
  create: ['id', 'alias', 'description', 'data-dir', 'meta', 'master-key-file'],
  list: ['data-dir', 'meta', 'master-key-file'],
  disable: ['key', 'data-dir', 'meta', 'master-key-file'],
  enable: ['key', 'data-dir', 'meta', 'master-key-file'],
  rotate: ['key', 'data-dir', 'meta', 'master-key-file'],
  'rotate-master': ['new-master-key-file', 'data-dir', 'meta', 'master-key-file'],
};

/** trove admin kms …: the built-in key service's keys. */
async function adminKms(verb: string | undefined, rest: string[]): Promise<void> {
  if (!verb || !KMS_FLAGS[verb]) {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const flags = takeFlags(rest, KMS_FLAGS[verb]!);
  if (['disable', 'enable', 'rotate'].includes(verb) && !flags.get('key')) throw new ConfigError('--key is required');
  if (verb === 'rotate-master' && !flags.get('new-master-key-file')) throw new ConfigError('--new-master-key-file is required');
  const args: string[] = [];
  for (const f of ['data-dir', 'meta', 'master-key-file']) if (flags.has(f)) args.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...args, '--meta-pool', '1']);
  const master = loadMasterKey(config.masterKeyFile, config.masterKeyEnv);
  // Shared: servers may be running on the directory (see SqliteOptions.shared).
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    const kms = new BuiltinKeyService(meta, master, config.region);
    await kms.verifyMaster();
    const show = (k: KmsKey) => out(`${k.id}	${k.enabled ? 'Enabled' : 'Disabled'}	v${Math.max(...k.versions.map((v) => v.version))}	${k.alias ? `alias/${k.alias}` : '-'}	${kms.arn(k.id)}
`);
    if (verb === 'create') show(await kms.create({ ...(flags.has('id') ? { id: flags.get('id')! } : {}), ...(flags.has('alias') ? { alias: flags.get('alias')! } : {}), ...(flags.has('description') ? { description: flags.get('description')! } : {}) }));
    else if (verb === 'list') for (const k of await kms.list()) show(k);
    else if (verb === 'disable' || verb === 'enable') show(await kms.setEnabled(flags.get('key')!, verb === 'enable'));
    else if (verb === 'rotate') show(await kms.rotate(flags.get('key')!));
    else {
      const next = loadMasterKey(path.resolve(flags.get('new-master-key-file')!), undefined)!;
      const keys = await kms.rewrapAll(next);
      const tiers = await new TierRegistry(meta, master).rewrapAll(next);
      const remotes = await new RemoteRegistry(meta, master).rewrapAll(next);
      out(`re-wrapped ${keys} key versions${tiers ? `, ${tiers} tier secrets` : ''}${remotes ? `, ${remotes} replication remote secrets` : ''}; restart the server with the new master key\n`);
    }
  } catch (e) {
    if (e instanceof KeyError || e instanceof MasterKeyError) throw new ConfigError(e.message);
    throw e;
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/**
 * trove admin tier add NAME … | list | remove NAME: remote tiers (tiering/tiers.ts). Flags may
 * repeat (--storage-class) or stand alone (--archive); the secret key is never printed.
 */
async function adminTier(verb: string | undefined, rest: string[]): Promise<void> {
  const valued = ['endpoint', 'bucket', 'prefix', 'access-key', 'secret-key', 'region', 'storage-class', 'data-dir', 'meta', 'master-key-file'];
  if (verb !== 'add' && verb !== 'list' && verb !== 'remove') {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  let archive = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (name === 'archive' && verb === 'add') {
      archive = true;
      continue;
    }
    if (!valued.includes(name)) throw new ConfigError(`unexpected argument: ${a}`);
    const value = eq > 0 ? a.slice(eq + 1) : rest[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  const one = (n: string) => flags.get(n)?.at(-1);
  if (verb !== 'list' && positional.length !== 1) throw new ConfigError(`trove admin tier ${verb} NAME: one tier name`);
  if (verb === 'list' && positional.length) throw new ConfigError(`unexpected argument: ${positional[0]}`);
  const args: string[] = [];
  for (const f of ['data-dir', 'meta', 'master-key-file']) if (flags.has(f)) args.push(`--${f}`, one(f)!);
  const config = loadConfig([...args, '--meta-pool', '1']);
  const master = loadMasterKey(config.masterKeyFile, config.masterKeyEnv);
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    const tiers = new TierRegistry(meta, master);
    if (verb === 'list') for (const t of await tiers.records()) out(describeTier(t));
    else if (verb === 'remove') {
      if (!(await tiers.remove(positional[0]!))) throw new ConfigError(`no tier ${positional[0]}`);
      out(`removed tier ${positional[0]}\n`);
    } else {
      const rec = await tiers.add({
        name: positional[0]!,
        endpoint: one('endpoint') ?? '',
        bucket: one('bucket') ?? '',
        accessKey: one('access-key') ?? '',
        secretKey: one('secret-key') ?? '',
        archive,
        storageClasses: (flags.get('storage-class') ?? []).flatMap((s) => s.split(',')),
        ...(one('prefix') !== undefined ? { prefix: one('prefix')! } : {}),
        ...(one('region') !== undefined ? { region: one('region')! } : {}),
      });
      out(describeTier(rec));
      if (!master) out('note: no master key is configured: the secret key is stored unsealed in the metadata\n');
    }
  } catch (e) {
    if (e instanceof TierError || e instanceof MasterKeyError) throw new ConfigError(e.message);
    throw e;
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin policy add|list|remove|default …, trove admin drive [--json]: storage policies and drives. */
async function adminStorage(noun: 'policy' | 'drive', verb: string | undefined, rest: string[]): Promise<void> {
  const args = noun === 'drive' ? [verb, ...rest].filter((a): a is string => a !== undefined) : rest;
  const json = args.includes('--json');
  const positionals: string[] = [];
  const flagArgs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') continue;
    if (a.startsWith('--')) {
      flagArgs.push(a);
      if (!a.includes('=') && i + 1 < args.length) flagArgs.push(args[++i]!);
    } else positionals.push(a);
  }
  const flags = takeFlags(flagArgs, ['data-dir', 'data-dirs', 'meta']);
  if (noun === 'policy' && !verb) throw new ConfigError('trove admin policy add|list|remove|default');
  if (noun === 'drive' && positionals.length) throw new ConfigError(`unexpected argument: ${positionals[0]}`);
  const cli: string[] = [];
  for (const f of ['data-dir', 'data-dirs', 'meta']) if (flags.has(f)) cli.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...cli, '--meta-pool', '1']);
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    out(noun === 'policy' ? await policyCommand(meta, config.dataDirs.length, verb!, positionals) : await driveCommand(meta, blobs, json));
  } catch (e) {
    if (e instanceof PolicyError) throw new ConfigError(e.message);
    throw e;
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin work: the work engine's queue, by kind (depth, due, running, failing, lag). */
async function adminWork(rest: string[]): Promise<void> {
  const json = rest.includes('--json');
  const flags = takeFlags(rest.filter((a) => a !== '--json'), ['data-dir', 'meta']);
  const args: string[] = [];
  for (const f of ['data-dir', 'meta']) if (flags.has(f)) args.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...args, '--meta-pool', '1']);
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    const st = await meta.workStats();
    if (json) {
      out(JSON.stringify(st, null, 2) + '\n');
      return;
    }
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
    out(`${'kind'.padEnd(24)} ${'depth'.padStart(9)} ${'due'.padStart(9)} ${'running'.padStart(8)} ${'failing'.padStart(8)} ${'lag'.padStart(9)} ${'attempts'.padStart(8)}\n`);
    for (const k of st.kinds) {
      out(`${k.kind.padEnd(24)} ${String(k.depth).padStart(9)} ${String(k.due).padStart(9)} ${String(k.running).padStart(8)} ${String(k.failing).padStart(8)} ${secs(k.lagMs).padStart(9)} ${String(k.maxAttempts).padStart(8)}\n`);
    }
    out(`${'total'.padEnd(24)} ${String(st.depth).padStart(9)} ${''.padStart(9)} ${''.padStart(8)} ${String(st.failing).padStart(8)} ${secs(st.lagMs).padStart(9)}\n`);
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** Opens the stores for an admin command from its --data-dir / --meta / --master-key-file flags. */
async function adminStores(flags: Map<string, string>) {
  const args: string[] = [];
  for (const f of ['data-dir', 'meta', 'master-key-file']) if (flags.has(f)) args.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...args, '--meta-pool', '1']);
  const master = loadMasterKey(config.masterKeyFile, config.masterKeyEnv);
  const stores = await openStores(config, { shared: true });
  return { ...stores, master };
}

/** Splits `<positional> --flag value…` (the positional may come anywhere). */
function positional(rest: string[]): { name: string | undefined; flags: string[] } {
  const flags: string[] = [];
  let name: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith('--')) {
      flags.push(a);
      if (!a.includes('=') && a !== '--json' && i + 1 < rest.length) flags.push(rest[++i]!);
    } else if (name === undefined) name = a;
    else throw new ConfigError(`unexpected argument: ${a}`);
  }
  return { name, flags };
}

/** trove admin remote add|list|remove: replication destinations. */
async function adminRemote(verb: string | undefined, rest: string[]): Promise<void> {
  const { name, flags: f } = positional(rest);
  const allowed: Record<string, string[]> = {
    add: ['endpoint', 'access-key', 'secret-key', 'buckets', 'region', 'data-dir', 'meta', 'master-key-file'],
    list: ['data-dir', 'meta', 'master-key-file'],
    remove: ['data-dir', 'meta', 'master-key-file'],
  };
  if (!verb || !allowed[verb]) {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const flags = takeFlags(f, allowed[verb]!);
  if (verb !== 'list' && !name) throw new ConfigError('the remote\'s name is required');
  const { meta, blobs, master } = await adminStores(flags);
  try {
    const remotes = new RemoteRegistry(meta, master);
    if (verb === 'list') {
      for (const r of await remotes.records()) out(describeRemote(r));
    } else if (verb === 'remove') {
      if (!(await remotes.remove(name!))) throw new ConfigError(`no remote ${name}`);
      out(`removed remote ${name}\n`);
    } else {
      const rec = await remotes.add({
        name: name!,
        endpoint: flags.get('endpoint') ?? '',
        accessKey: flags.get('access-key') ?? '',
        secretKey: flags.get('secret-key') ?? '',
        buckets: (flags.get('buckets') ?? '').split(','),
        ...(flags.has('region') ? { region: flags.get('region')! } : {}),
      });
      out(describeRemote(rec));
    }
  } catch (e) {
    if (e instanceof RemoteError || e instanceof MasterKeyError) throw new ConfigError(e.message);
    throw e;
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin replication status|resync. */
async function adminReplication(verb: string | undefined, rest: string[]): Promise<void> {
  const json = rest.includes('--json');
  const { name, flags: f } = positional(rest.filter((a) => a !== '--json'));
  if (verb !== 'status' && verb !== 'resync') {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const flags = takeFlags(f, ['data-dir', 'meta']);
  if (verb === 'resync' && !name) throw new ConfigError('the bucket is required: trove admin replication resync <bucket>');
  const { meta, blobs } = await adminStores(flags);
  try {
    if (verb === 'status') {
      const rows = await replicationBacklog(meta);
      if (json) {
        out(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      out(`${'bucket'.padEnd(24)} ${'rule'.padEnd(20)} ${'pending'.padStart(9)} ${'bytes'.padStart(14)} ${'failing'.padStart(8)} ${'lag'.padStart(9)}\n`);
      for (const r of rows) {
        out(`${r.bucket.padEnd(24)} ${r.rule.padEnd(20)} ${String(r.pending).padStart(9)} ${String(r.bytes).padStart(14)} ${String(r.failing).padStart(8)} ${`${(r.lagMs / 1000).toFixed(1)}s`.padStart(9)}\n`);
      }
      return;
    }
    const bucket = await meta.getBucket(name!);
    if (!bucket) throw new ConfigError(`no bucket ${name}`);
    const stored = await meta.getBucketConfig(bucket.id, 'replication');
    if (!stored) throw new ConfigError(`bucket ${name} has no replication configuration`);
    out(`queued ${await resync(meta, bucket, deserializeReplication(stored))} versions of ${name} for replication\n`);
  } finally {
    await meta.close();
    await blobs.close();
  }
}

const TARGET_FLAGS: Record<string, string[]> = {
  add: ['name', 'type', 'endpoint', 'destination', 'exchange', 'format', 'token', 'ca', 'data-dir', 'meta'],
  list: ['data-dir', 'meta'],
  remove: ['name', 'data-dir', 'meta'],
};

/**
 * trove admin target add|list|remove: the destinations bucket notification configurations may
 * name, by ARN. Secrets (a webhook's token, passwords in endpoint URLs) are stored, never printed.
 */
async function adminTarget(verb: string | undefined, rest: string[]): Promise<void> {
  if (!verb || !TARGET_FLAGS[verb]) {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const flags = takeFlags(rest, TARGET_FLAGS[verb]!);
  if (verb !== 'list' && !flags.get('name')) throw new ConfigError('--name is required');
  // Refuse a bad definition before a data directory is opened (or created).
  const input: svc.TargetInput | undefined =
    verb === 'add'
      ? {
          name: flags.get('name')!,
          type: flags.get('type') ?? '',
          endpoint: flags.get('endpoint') ?? '',
          ...(flags.has('destination') ? { destination: flags.get('destination')! } : {}),
          ...(flags.has('exchange') ? { exchange: flags.get('exchange')! } : {}),
          ...(flags.has('format') ? { format: flags.get('format') as 'list' | 'stream' } : {}),
          ...(flags.has('token') ? { token: flags.get('token')! } : {}),
        }
      : undefined;
  if (input) {
    try {
      checkTarget({ ...input, type: input.type as TargetType });
      if (flags.has('ca')) input.ca = readCa(flags.get('ca')!);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
  const args: string[] = [];
  for (const f of ['data-dir', 'meta']) if (flags.has(f)) args.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...args, '--meta-pool', '1']);
  const { meta, blobs } = await openStores(config, { shared: true });
  const show = (t: TargetDef) =>
    out(`${t.arn}	${t.type}	${redact(t.endpoint)}${t.destination ? `	${t.destination}` : ''}${t.exchange ? `	exchange=${t.exchange}` : ''}${t.format ? `	format=${t.format}` : ''}${t.token ? '	token=(set)' : ''}${t.ca ? '	ca=(set)' : ''}
`);
  try {
    if (verb === 'list') {
      for (const t of await loadTargets(meta)) show(t);
      return;
    }
    const name = flags.get('name')!;
    if (verb === 'remove') {
      if (!(await svc.removeTarget(meta, name))) throw new ConfigError(`no target ${name} (trove admin target list shows them)`);
      out(`removed ${name}; events still queued for it are dropped (logged and counted)\n`);
      return;
    }
    show(await svc.putTarget(meta, input!));
  } finally {
    await meta.close();
    await blobs.close();
  }
}

function count(flags: Map<string, string>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new ConfigError(`--${name} must be a whole number`);
  return Number(v);
}

/** trove admin quota set|show|clear and trove admin usage. */
async function adminQuota(noun: 'quota' | 'usage', verb: string | undefined, rest: string[]): Promise<void> {
  const args = noun === 'usage' ? [verb, ...rest].filter((a): a is string => a !== undefined) : rest;
  if (noun === 'quota' && verb !== 'set' && verb !== 'show' && verb !== 'clear') {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const json = args.includes('--json');
  const allowed = ['bucket', 'account', 'data-dir', 'meta', ...(verb === 'set' ? ['max-bytes', 'max-objects'] : [])];
  const flags = takeFlags(args.filter((a) => a !== '--json'), allowed);
  const maxBytes = count(flags, 'max-bytes');
  const maxObjects = count(flags, 'max-objects');
  if (noun === 'quota' && verb === 'set' && maxBytes === undefined && maxObjects === undefined) throw new ConfigError('give --max-bytes and/or --max-objects');
  const storeArgs: string[] = [];
  for (const f of ['data-dir', 'meta']) if (flags.has(f)) storeArgs.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...storeArgs, '--meta-pool', '1']);
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    if (noun === 'usage' && !flags.has('bucket') && !flags.has('account')) {
      // Every bucket, then every account.
      const all = await svc.allUsage(meta);
      if (json) out(JSON.stringify([...all.buckets, ...all.accounts], null, 2) + '\n');
      else {
        for (const r of all.buckets) out(usageLine(`bucket ${r.bucket}`, r, r.quota));
        for (const r of all.accounts) out(usageLine(`account ${r.account}`, r, r.quota));
      }
      return;
    }
    const bucket = flags.get('bucket');
    const account = flags.get('account');
    if ((bucket === undefined) === (account === undefined)) throw new ConfigError('give one of --bucket <name> or --account <12-digit account id>');
    const t = bucket !== undefined ? await svc.bucketQuotaTarget(meta, bucket) : await svc.accountQuotaTarget(meta, account!);
    const report =
      verb === 'set'
        ? await svc.setQuota(meta, t, { ...(maxBytes !== undefined ? { maxBytes } : {}), ...(maxObjects !== undefined ? { maxObjects } : {}) })
        : verb === 'clear'
          ? await svc.clearQuota(meta, t)
          : await svc.usageOf(meta, t);
    if (json) out(JSON.stringify(report, null, 2) + '\n');
    else out(usageLine(t.label, report, report.quota));
  } finally {
    await meta.close();
    await blobs.close();
  }
}

function usageLine(label: string, u: Usage, q: Quota | undefined): string {
  const lim = (v: number | undefined) => (v === undefined ? 'unlimited' : String(v));
  return `${label}\tbytes ${u.bytes}\tobjects ${u.objects}\tstaged part bytes ${u.stagedBytes}\tquota ${q ? `max-bytes ${lim(q.maxBytes)} max-objects ${lim(q.maxObjects)}` : 'none'}\n`;
}

/** trove admin usage report: the report GET /admin/v1/usage/reports answers (src/usage/report.ts). */
async function adminUsageReport(rest: string[]): Promise<void> {
  const flags = takeFlags(rest, ['from', 'to', 'account', 'bucket', 'user', 'granularity', 'format', 'data-dir', 'meta']);
  const params: Record<string, string> = {};
  for (const k of ['from', 'to', 'account', 'bucket', 'user', 'granularity', 'format']) if (flags.has(k)) params[k] = flags.get(k)!;
  let query;
  try {
    query = parseUsageQuery(params);
  } catch (e) {
    if (e instanceof UsageQueryError) throw new ConfigError(e.message);
    throw e;
  }
  const storeArgs: string[] = [];
  for (const f of ['data-dir', 'meta']) if (flags.has(f)) storeArgs.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...storeArgs, '--meta-pool', '1']);
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    const r = await usageReport({ meta }, query);
    out(query.format === 'json' ? JSON.stringify(r.report, null, 2) + '\n' : r.body);
  } catch (e) {
    if (e instanceof UsageQueryError) throw new ConfigError(e.message);
    throw e;
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin qos set|show|clear: per-node request and byte rates (http/qos.ts). */
async function adminQos(verb: string | undefined, rest: string[]): Promise<void> {
  if (verb !== 'set' && verb !== 'show' && verb !== 'clear') {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const flags = takeFlags(rest, ['account', 'user', 'data-dir', 'meta', ...(verb === 'set' ? ['rps', 'up-bps', 'down-bps'] : [])]);
  const account = flags.get('account');
  const user = flags.get('user');
  if ((account === undefined) === (user === undefined)) throw new ConfigError('give one of --account <12-digit account id> or --user <IAM user ARN>');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new ConfigError('--account must be 12 digits');
  if (user !== undefined && !/^arn:aws:iam::\d{12}:user\/./.test(user)) throw new ConfigError('--user must be an IAM user ARN (arn:aws:iam::<account>:user/<name>)');
  const rps = count(flags, 'rps');
  const up = count(flags, 'up-bps');
  const down = count(flags, 'down-bps');
  if (verb === 'set' && rps === undefined && up === undefined && down === undefined) throw new ConfigError('give --rps, --up-bps and/or --down-bps');
  const storeArgs: string[] = [];
  for (const f of ['data-dir', 'meta']) if (flags.has(f)) storeArgs.push(`--${f}`, flags.get(f)!);
  const config = loadConfig([...storeArgs, '--meta-pool', '1']);
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    const subject: svc.QosSubject = account !== undefined ? { account } : { user: user! };
    if (verb === 'set') await svc.setQos(meta, subject, { ...(rps !== undefined ? { rps } : {}), ...(up !== undefined ? { upBps: up } : {}), ...(down !== undefined ? { downBps: down } : {}) });
    else if (verb === 'clear') await svc.clearQos(meta, subject);
    const limits = await svc.getQos(meta, subject);
    const now = Object.keys(limits).length ? limits : undefined;
    const lim = (v: number | undefined) => (v === undefined || v === 0 ? 'unlimited' : String(v));
    out(`${account !== undefined ? `account ${account}` : `user ${user}`}\t${now ? `rps ${lim(now.rps)}\tup-bps ${lim(now.upBps)}\tdown-bps ${lim(now.downBps)}` : 'no limits'}\n`);
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin token create|list|revoke on the data directory (the API's /tokens otherwise). */
async function adminToken(verb: string | undefined, rest: string[]): Promise<void> {
  if (verb !== 'create' && verb !== 'list' && verb !== 'revoke') {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const a = parseArgs(rest, ['name', 'action', 'resource', 'expires-in', 'id', 'data-dir', 'meta']);
  if (a.positional.length) throw new ConfigError(`unexpected argument: ${a.positional[0]}`);
  const request = verb === 'create' ? tokenRequest(a) : undefined;
  if (verb === 'revoke' && !a.flags.get('id')?.length) throw new ConfigError('--id is required');
  const flags = new Map([...a.flags].map(([k, v]) => [k, v.at(-1)!]));
  const { meta, blobs } = await adminStores(flags);
  try {
    const tokens = new AdminTokens(meta);
    if (verb === 'list') for (const t of await tokens.list()) out(tokenLine(t));
    else if (verb === 'revoke') {
      if (!(await tokens.revoke(flags.get('id')!))) throw new ConfigError(`no token ${flags.get('id')}`);
      out(`revoked ${flags.get('id')}\n`);
    } else {
      const r = await tokens.create({ name: request!.name, scope: { actions: request!.actions, resources: request!.resources }, ...(request!.expiresInSeconds !== undefined ? { expiresInSeconds: request!.expiresInSeconds } : {}), createdBy: 'cli' });
      out(`token ${r.token}\n${tokenLine(r.info)}`);
    }
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin bucket list [--account] | show BUCKET, on the data directory. */
async function adminBucket(verb: string | undefined, rest: string[]): Promise<void> {
  if (verb !== 'list' && verb !== 'show') {
    out(ADMIN_HELP);
    process.exitCode = 2;
    return;
  }
  const a = parseArgs(rest, ['account', 'data-dir', 'meta']);
  if (verb === 'show' && a.positional.length !== 1) throw new ConfigError('trove admin bucket show BUCKET: one bucket name');
  if (verb === 'list' && a.positional.length) throw new ConfigError(`unexpected argument: ${a.positional[0]}`);
  const flags = new Map([...a.flags].map(([k, v]) => [k, v.at(-1)!]));
  const { meta, blobs } = await adminStores(flags);
  try {
    if (verb === 'show') {
      const b = await meta.getBucket(a.positional[0]!);
      if (!b) throw new ConfigError(`no bucket ${a.positional[0]}`);
      out(svc.bucketLine(await svc.describeBucket(meta, b, true)));
      return;
    }
    const owner = flags.has('account') ? (await svc.findAccount(meta, flags.get('account')!)).id : undefined;
    for (let after: string | undefined; ; ) {
      const page = await meta.listBuckets(owner, { limit: 1000, ...(after !== undefined ? { after } : {}) });
      for (const b of page) out(svc.bucketLine(await svc.describeBucket(meta, b, false)));
      if (page.length < 1000) return;
      after = page[page.length - 1]!.name;
    }
  } finally {
    await meta.close();
    await blobs.close();
  }
}

async function runAdmin(argv: string[]): Promise<void> {
  // With --admin-url (or TROVE_ADMIN_URL), through a running server's admin API.
  const { conn, rest: local } = takeConnection(argv);
  if (conn) {
    if (!(await runRemote(conn, local, out))) throw new ConfigError(`"trove admin ${local.slice(0, 2).join(' ')}" works on the data directory only (drop --admin-url)`);
    return;
  }
  const [noun, verb, ...rest] = local;
  if (noun === 'token') return adminToken(verb, rest);
  if (noun === 'bucket') return adminBucket(verb, rest);
  if (noun === 'key') throw new ConfigError('trove admin key … works through a running server: give --admin-url (on the data directory, "user add" makes a user\'s first key)');
  if (noun === 'target') return adminTarget(verb, rest);
  if (noun === 'qos') return adminQos(verb, rest);
  if (noun === 'usage' && verb === 'report') return adminUsageReport(rest);
  if (noun === 'usage' && verb === 'classes') {
    for (const [name, c] of CLASS_OF) out(`${name}\t${c}\n`);
    return;
  }
  if (noun === 'quota' || noun === 'usage') return adminQuota(noun, verb, rest);
  if (noun === 'kms') return adminKms(verb, rest);
  if (noun === 'tier') return adminTier(verb, rest);
  if (noun === 'policy' || noun === 'drive') return adminStorage(noun, verb, rest);
  if (noun === 'remote') return adminRemote(verb, rest);
  if (noun === 'replication') return adminReplication(verb, rest);
  if (noun === 'work' || (noun === 'engine' && verb === 'status')) return adminWork(noun === 'work' ? [verb, ...rest].filter((a): a is string => a !== undefined) : rest);
  if (!noun || noun === '--help' || noun === '-h' || (noun !== 'account' && noun !== 'user') || (verb !== 'add' && verb !== 'list')) {
    out(ADMIN_HELP);
    if (noun && noun !== '--help' && noun !== '-h') process.exitCode = 2;
    return;
  }
  const flags = takeFlags(rest, [...ADMIN_FLAGS[noun][verb]]);
  // Refuse incomplete commands before a data directory is opened (or created).
  if (noun === 'user' && !flags.get('account')) throw new ConfigError('--account <12-digit account id> is required');
  if (verb === 'add' && !flags.get('name')) throw new ConfigError('--name is required');
  const config = loadConfig([
    ...(flags.has('data-dir') ? ['--data-dir', flags.get('data-dir')!] : []),
    ...(flags.has('meta') ? ['--meta', flags.get('meta')!] : []),
    // One connection is plenty for a command.
    '--meta-pool',
    '1',
  ]);
  // Shared: servers may be running on the directory (see SqliteOptions.shared).
  const { meta, blobs } = await openStores(config, { shared: true });
  try {
    if (noun === 'user') return await adminUser(meta, verb, flags);
    if (verb === 'list') {
      for (const a of await meta.listAccounts()) out(`${a.accountId}\t${a.id}\t${a.displayName}${a.email ? `\t${a.email}` : ''}\n`);
      return;
    }
    const email = flags.get('email');
    const r = await svc.createAccount(meta, {
      name: flags.get('name')!,
      ...(email ? { email } : {}),
      ...(flags.has('account-id') ? { accountId: flags.get('account-id')! } : {}),
      ...(flags.has('id') ? { canonicalId: flags.get('id')! } : {}),
      ...(flags.has('access-key') ? { accessKey: flags.get('access-key')! } : {}),
      ...(flags.has('secret-key') ? { secretKey: flags.get('secret-key')! } : {}),
    });
    const { accountId, displayName: name, id } = r.account;
    const { accessKeyId, secretAccessKey } = r;
    out(`account ${accountId} (${name})\ncanonical id ${id}\naccess key ${accessKeyId}\nsecret key ${secretAccessKey}\n`);
  } finally {
    await meta.close();
    await blobs.close();
  }
}

/** trove admin user add|list: IAM users, through the IAM service the IAM API uses. */
async function adminUser(meta: MetaStore, verb: 'add' | 'list', flags: Map<string, string>): Promise<void> {
  const accountId = flags.get('account')!;
  const account = await meta.getAccountById(accountId);
  if (!account) throw new ConfigError(`no account ${accountId} (trove admin account list shows them)`);
  const iam = new IamService(meta, pino({ level: 'silent' }));
  if (verb === 'list') {
    let after: string | undefined;
    for (;;) {
      const page = await iam.store.listUsers(accountId, { limit: 1000, ...(after !== undefined ? { after } : {}) });
      for (const u of page) out(`${u.name}\t${u.id}\t${userArn(u)}\t${new Date(u.createdAt).toISOString()}\n`);
      if (page.length < 1000) return;
      after = page[page.length - 1]!.name;
    }
  }
  const name = flags.get('name')!;
  const path = flags.get('path') ?? '/';
  const bad = ruleViolation('UserName', name, RULES.UserName) ?? ruleViolation('Path', path, RULES.Path);
  if (bad) throw new ConfigError(bad);
  const accessKeyId = flags.get('access-key');
  const secretAccessKey = flags.get('secret-key');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) throw new ConfigError('--access-key and --secret-key go together');
  if (accessKeyId !== undefined && (await meta.getAccessKey(accessKeyId))) throw new ConfigError(`access key ${accessKeyId} already exists`);
  const user = await iam.createUser(accountId, name, path);
  const key = await iam.createAccessKey(account, user, Date.now(), accessKeyId !== undefined && secretAccessKey !== undefined ? { accessKeyId, secretAccessKey } : undefined);
  out(`user ${userArn(user)} (${user.id})\naccess key ${key.accessKeyId}\nsecret key ${key.secretAccessKey}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'server':
      return runServer(rest);
    case 'admin':
      return runAdmin(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(USAGE);
      if (cmd === undefined) process.exitCode = 2;
      return;
    default:
      process.stderr.write(`trove: unknown command "${cmd}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof AdminApiError) {
    process.stderr.write(`trove: ${e.code}: ${e.message}\n`);
    process.exit(e.status === 401 || e.status === 403 ? 3 : 1);
  }
  if (e instanceof ConfigError || e instanceof CliError || (e instanceof AdminError && e.status < 500)) {
    process.stderr.write(`trove: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`trove: ${(e as Error).message}\n`);
  process.exit(1);
});

