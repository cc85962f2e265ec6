// `trove admin … --admin-url URL`: the admin commands run against a running server through its
// admin API (admin/client.ts), printing what the same commands print when they work on the data
// directory. Credentials: --admin-token / TROVE_ADMIN_TOKEN, or --admin-access-key and
// --admin-secret-key / TROVE_ADMIN_ACCESS_KEY and TROVE_ADMIN_SECRET_KEY (else AWS_ACCESS_KEY_ID
// and AWS_SECRET_ACCESS_KEY); the region: --admin-region / TROVE_ADMIN_REGION / AWS_REGION.
// (The flags are --admin-… because --endpoint, --access-key and --secret-key already name a
// tier's, a remote's or a target's own.)

import { AdminClient, type AdminConnection } from './client.js';
import { bucketLine } from './service.js';

export class CliError extends Error {}

/** The admin API connection flags, taken out of argv; undefined when the command is to run on the data directory. */
export function takeConnection(argv: string[], env: NodeJS.ProcessEnv = process.env): { conn: AdminConnection | undefined; rest: string[] } {
  const names = ['admin-url', 'admin-token', 'admin-access-key', 'admin-secret-key', 'admin-region'];
  const got = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : '';
    if (!names.includes(name)) {
      rest.push(a);
      continue;
    }
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new CliError(`--${name} needs a value`);
    got.set(name, v);
  }
  // An explicit data directory or database means: work on it, whatever the environment says.
  const local = rest.some((a) => a === '--data-dir' || a.startsWith('--data-dir=') || a === '--meta' || a.startsWith('--meta='));
  const url = got.get('admin-url') ?? (local ? undefined : env.TROVE_ADMIN_URL || undefined);
  if (url === undefined) {
    if (got.size) throw new CliError('--admin-token, --admin-access-key, --admin-secret-key and --admin-region go with --admin-url');
    return { conn: undefined, rest };
  }
  if (local && got.has('admin-url')) throw new CliError('--admin-url runs the command on a server: --data-dir and --meta do not go with it');
  const token = got.get('admin-token') ?? env.TROVE_ADMIN_TOKEN;
  const accessKeyId = got.get('admin-access-key') ?? env.TROVE_ADMIN_ACCESS_KEY ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = got.get('admin-secret-key') ?? env.TROVE_ADMIN_SECRET_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  const region = got.get('admin-region') ?? env.TROVE_ADMIN_REGION ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return {
    conn: { url, region, ...(token ? { token } : {}), ...(!token && accessKeyId ? { accessKeyId } : {}), ...(!token && secretAccessKey ? { secretAccessKey } : {}) },
    rest,
  };
}

interface Args {
  positional: string[];
  flags: Map<string, string[]>;
  bools: Set<string>;
}

function parse(argv: string[], valued: string[], booleans: string[] = []): Args {
  const a: Args = { positional: [], flags: new Map(), bools: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (!x.startsWith('--')) {
      a.positional.push(x);
      continue;
    }
    const eq = x.indexOf('=');
    const name = eq > 0 ? x.slice(2, eq) : x.slice(2);
    if (booleans.includes(name) && eq < 0) {
      a.bools.add(name);
      continue;
    }
    if (!valued.includes(name)) throw new CliError(`unexpected argument: ${x}`);
    const v = eq > 0 ? x.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new CliError(`--${name} needs a value`);
    a.flags.set(name, [...(a.flags.get(name) ?? []), v]);
  }
  return a;
}

const one = (a: Args, n: string): string | undefined => a.flags.get(n)?.at(-1);
const need = (a: Args, n: string, what = `--${n} is required`): string => {
  const v = one(a, n);
  if (v === undefined || v === '') throw new CliError(what);
  return v;
};
const seg = encodeURIComponent;

function whole(a: Args, n: string): number | undefined {
  const v = one(a, n);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new CliError(`--${n} must be a whole number`);
  return Number(v);
}

function usageLine(label: string, u: { bytes: number; objects: number; stagedBytes: number; quota?: { maxBytes?: number; maxObjects?: number } }): string {
  const lim = (v: number | undefined) => (v === undefined ? 'unlimited' : String(v));
  const q = u.quota;
  return `${label}\tbytes ${u.bytes}\tobjects ${u.objects}\tstaged part bytes ${u.stagedBytes}\tquota ${q ? `max-bytes ${lim(q.maxBytes)} max-objects ${lim(q.maxObjects)}` : 'none'}\n`;
}

/** Runs one admin command through the API; returns false when the command has no API form. */
export async function runRemote(conn: AdminConnection, argv: string[], out: (s: string) => void): Promise<boolean> {
  const api = new AdminClient(conn);
  const [noun, verb, ...rest] = argv;
  switch (`${noun} ${verb}`) {
    case 'account add': {
      const a = parse(rest, ['name', 'email', 'account-id', 'id', 'access-key', 'secret-key']);
      const r = await api.call('POST', '/accounts', {
        name: need(a, 'name'),
        ...(one(a, 'email') ? { email: one(a, 'email') } : {}),
        ...(one(a, 'account-id') ? { accountId: one(a, 'account-id') } : {}),
        ...(one(a, 'id') ? { canonicalId: one(a, 'id') } : {}),
        ...(one(a, 'access-key') ? { accessKeyId: one(a, 'access-key') } : {}),
        ...(one(a, 'secret-key') ? { secretAccessKey: one(a, 'secret-key') } : {}),
      });
      out(`account ${r.account.accountId} (${r.account.name})\ncanonical id ${r.account.canonicalId}\naccess key ${r.accessKeyId}\nsecret key ${r.secretAccessKey}\n`);
      return true;
    }
    case 'account list': {
      parse(rest, []);
      for (const x of (await api.call('GET', '/accounts')).accounts) out(`${x.accountId}\t${x.canonicalId}\t${x.name}${x.email ? `\t${x.email}` : ''}\n`);
      return true;
    }
    case 'user add': {
      const a = parse(rest, ['account', 'name', 'path', 'access-key', 'secret-key']);
      const account = need(a, 'account', '--account <12-digit account id> is required');
      if (one(a, 'access-key') !== undefined) throw new CliError('--access-key and --secret-key work on the data directory only: through the API a user\'s key is generated');
      const u = (await api.call('POST', `/accounts/${seg(account)}/users`, { name: need(a, 'name'), ...(one(a, 'path') ? { path: one(a, 'path') } : {}) })).User;
      const k = await api.call('POST', `/accounts/${seg(account)}/users/${seg(u.UserName)}/keys`);
      out(`user ${u.Arn} (${u.UserId})\naccess key ${k.AccessKeyId}\nsecret key ${k.SecretAccessKey}\n`);
      return true;
    }
    case 'user list': {
      const a = parse(rest, ['account']);
      const account = need(a, 'account', '--account <12-digit account id> is required');
      for (let marker: string | undefined; ; ) {
        const r = await api.call('GET', `/accounts/${seg(account)}/users`, undefined, { maxItems: '1000', ...(marker ? { marker } : {}) });
        for (const u of r.users) out(`${u.UserName}\t${u.UserId}\t${u.Arn}\t${u.CreateDate}\n`);
        if (!r.isTruncated) return true;
        marker = r.marker;
      }
    }
    case 'bucket list':
    case 'bucket show': {
      const a = parse(rest, ['account']);
      if (verb === 'show') {
        if (a.positional.length !== 1) throw new CliError('trove admin bucket show BUCKET: one bucket name');
        out(bucketLine(await api.call('GET', `/buckets/${seg(a.positional[0]!)}`)));
        return true;
      }
      for (let after: string | undefined; ; ) {
        const r = await api.call('GET', '/buckets', undefined, { ...(one(a, 'account') ? { account: one(a, 'account')! } : {}), ...(after ? { after } : {}) });
        for (const b of r.buckets) out(bucketLine(b));
        if (!r.isTruncated) return true;
        after = r.next;
      }
    }
    case 'key list':
    case 'key create':
    case 'key activate':
    case 'key deactivate':
    case 'key delete': {
      // An account root's keys (--account), or an IAM user's (--account and --user).
      const a = parse(rest, ['account', 'user', 'id']);
      const account = need(a, 'account', '--account <12-digit account id> is required');
      const base = `/accounts/${seg(account)}${one(a, 'user') ? `/users/${seg(one(a, 'user')!)}` : ''}/keys`;
      const line = (k: any) => out(`${k.AccessKeyId}\t${k.Status}\t${k.CreateDate}${k.UserName ? `\t${k.UserName}` : '\troot'}\n`);
      if (verb === 'list') for (const k of (await api.call('GET', base, undefined, { maxItems: '1000' })).keys) line(k);
      else if (verb === 'create') {
        const k = await api.call('POST', base);
        out(`access key ${k.AccessKeyId}\nsecret key ${k.SecretAccessKey}\n`);
      } else if (verb === 'delete') {
        await api.call('DELETE', `${base}/${seg(need(a, 'id'))}`);
        out(`deleted ${one(a, 'id')}\n`);
      } else line(await api.call('PATCH', `${base}/${seg(need(a, 'id'))}`, { status: verb === 'activate' ? 'Active' : 'Inactive' }));
      return true;
    }
    case 'kms create':
    case 'kms list':
    case 'kms disable':
    case 'kms enable':
    case 'kms rotate': {
      const a = parse(rest, ['id', 'alias', 'description', 'key']);
      const show = (k: any) => out(`${k.id}\t${k.enabled ? 'Enabled' : 'Disabled'}\tv${Math.max(...k.versions.map((v: { version: number }) => v.version))}\t${k.alias ? `alias/${k.alias}` : '-'}\t${k.arn}\n`);
      if (verb === 'list') for (const k of (await api.call('GET', '/kms/keys')).keys) show(k);
      else if (verb === 'create') show(await api.call('POST', '/kms/keys', { ...(one(a, 'id') ? { id: one(a, 'id') } : {}), ...(one(a, 'alias') ? { alias: one(a, 'alias') } : {}), ...(one(a, 'description') ? { description: one(a, 'description') } : {}) }));
      else if (verb === 'rotate') show(await api.call('POST', `/kms/keys/${seg(need(a, 'key'))}/rotate`));
      else show(await api.call('PATCH', `/kms/keys/${seg(need(a, 'key'))}`, { enabled: verb === 'enable' }));
      return true;
    }
    case 'tier add':
    case 'tier list':
    case 'tier remove': {
      const a = parse(rest, ['endpoint', 'bucket', 'prefix', 'access-key', 'secret-key', 'region', 'storage-class'], ['archive']);
      if (verb !== 'list' && a.positional.length !== 1) throw new CliError(`trove admin tier ${verb} NAME: one tier name`);
      const line = (t: any) => out([t.name, t.endpoint, `${t.bucket}/${t.prefix}`, t.region, t.accessKey, `secret:${t.secretSealed ? 'sealed' : 'plain'}`, t.archive ? 'archive' : 'online', t.storageClasses.join(',') || '-'].join('\t') + '\n');
      if (verb === 'list') for (const t of (await api.call('GET', '/tiers')).tiers) line(t);
      else if (verb === 'remove') {
        await api.call('DELETE', `/tiers/${seg(a.positional[0]!)}`);
        out(`removed tier ${a.positional[0]}\n`);
      } else {
        line(await api.call('POST', '/tiers', {
          name: a.positional[0], endpoint: one(a, 'endpoint') ?? '', bucket: one(a, 'bucket') ?? '', accessKey: one(a, 'access-key') ?? '', secretKey: one(a, 'secret-key') ?? '',
          archive: a.bools.has('archive'), storageClasses: (a.flags.get('storage-class') ?? []).flatMap((s) => s.split(',')),
          ...(one(a, 'prefix') !== undefined ? { prefix: one(a, 'prefix') } : {}), ...(one(a, 'region') ? { region: one(a, 'region') } : {}),
        }));
      }
      return true;
    }
    case 'remote add':
    case 'remote list':
    case 'remote remove': {
      const a = parse(rest, ['endpoint', 'access-key', 'secret-key', 'region', 'buckets']);
      if (verb !== 'list' && a.positional.length !== 1) throw new CliError(`trove admin remote ${verb} NAME: one remote name`);
      const line = (r: any) => out([r.name, r.endpoint, r.region, r.accessKey, r.secretSealed ? 'secret:sealed' : 'secret:plain', r.buckets.join(',')].join('\t') + '\n');
      if (verb === 'list') for (const r of (await api.call('GET', '/remotes')).remotes) line(r);
      else if (verb === 'remove') {
        await api.call('DELETE', `/remotes/${seg(a.positional[0]!)}`);
        out(`removed remote ${a.positional[0]}\n`);
      } else {
        line(await api.call('POST', '/remotes', {
          name: a.positional[0], endpoint: one(a, 'endpoint') ?? '', accessKey: one(a, 'access-key') ?? '', secretKey: one(a, 'secret-key') ?? '',
          buckets: (one(a, 'buckets') ?? '').split(','), ...(one(a, 'region') ? { region: one(a, 'region') } : {}),
        }));
      }
      return true;
    }
    case 'target add':
    case 'target list':
    case 'target remove': {
      const a = parse(rest, ['name', 'type', 'endpoint', 'destination', 'exchange', 'format', 'token', 'ca']);
      const line = (t: any) => out(`${t.arn}\t${t.type}\t${t.endpoint}${t.destination ? `\t${t.destination}` : ''}${t.exchange ? `\texchange=${t.exchange}` : ''}${t.format ? `\tformat=${t.format}` : ''}${t.token ? '\ttoken=(set)' : ''}${t.ca ? '\tca=(set)' : ''}\n`);
      if (verb === 'list') for (const t of (await api.call('GET', '/targets')).targets) line(t);
      else if (verb === 'remove') {
        await api.call('DELETE', `/targets/${seg(need(a, 'name'))}`);
        out(`removed ${one(a, 'name')}; events still queued for it are dropped (logged and counted)\n`);
      } else {
        const { readFileSync } = await import('node:fs');
        const body: Record<string, string> = { type: one(a, 'type') ?? '', endpoint: one(a, 'endpoint') ?? '' };
        for (const f of ['destination', 'exchange', 'format', 'token']) if (one(a, f) !== undefined) body[f] = one(a, f)!;
        if (one(a, 'ca') !== undefined) body.ca = readFileSync(one(a, 'ca')!, 'utf8');
        line(await api.call('PUT', `/targets/${seg(need(a, 'name'))}`, body));
      }
      return true;
    }
    case 'quota set':
    case 'quota show':
    case 'quota clear': {
      const a = parse(rest, ['bucket', 'account', ...(verb === 'set' ? ['max-bytes', 'max-objects'] : [])], ['json']);
      const bucket = one(a, 'bucket');
      const account = one(a, 'account');
      if ((bucket === undefined) === (account === undefined)) throw new CliError('give one of --bucket <name> or --account <12-digit account id>');
      const base = bucket !== undefined ? `/buckets/${seg(bucket)}` : `/accounts/${seg(account!)}`;
      let r: any;
      if (verb === 'set') {
        const maxBytes = whole(a, 'max-bytes');
        const maxObjects = whole(a, 'max-objects');
        if (maxBytes === undefined && maxObjects === undefined) throw new CliError('give --max-bytes and/or --max-objects');
        r = await api.call('PUT', `${base}/quota`, { ...(maxBytes !== undefined ? { maxBytes } : {}), ...(maxObjects !== undefined ? { maxObjects } : {}) });
      } else if (verb === 'clear') r = await api.call('DELETE', `${base}/quota`);
      else if (bucket !== undefined) r = await api.call('GET', base).then((b) => ({ ...b.usage, ...(b.quota ? { quota: b.quota } : {}) }));
      else r = await api.call('GET', base).then((x) => ({ ...x.usage, ...(x.quota ? { quota: x.quota } : {}) }));
      out(a.bools.has('json') ? JSON.stringify(r, null, 2) + '\n' : usageLine(bucket !== undefined ? `bucket ${bucket}` : `account ${account}`, r));
      return true;
    }
    case 'qos set':
    case 'qos show':
    case 'qos clear': {
      const a = parse(rest, ['account', 'user', ...(verb === 'set' ? ['rps', 'up-bps', 'down-bps'] : [])]);
      const account = one(a, 'account');
      const user = one(a, 'user');
      if ((account === undefined) === (user === undefined)) throw new CliError('give one of --account <12-digit account id> or --user <IAM user ARN>');
      let base: string;
      if (account !== undefined) base = `/accounts/${seg(account)}/qos`;
      else {
        const m = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(user!);
        if (!m) throw new CliError('--user must be an IAM user ARN (arn:aws:iam::<account>:user/<name>)');
        base = `/accounts/${m[1]}/users/${seg(m[2]!)}/qos`;
      }
      if (verb === 'set') {
        const body: Record<string, number> = {};
        for (const [flag, key] of [['rps', 'rps'], ['up-bps', 'upBps'], ['down-bps', 'downBps']] as const) {
          const v = whole(a, flag);
          if (v !== undefined) body[key] = v;
        }
        if (!Object.keys(body).length) throw new CliError('give --rps, --up-bps and/or --down-bps');
        await api.call('PUT', base, body);
      } else if (verb === 'clear') await api.call('DELETE', base);
      const now = await api.call('GET', base);
      const lim = (v: number | undefined) => (v === undefined || v === 0 ? 'unlimited' : String(v));
      const set = Object.keys(now).length > 0;
      out(`${account !== undefined ? `account ${account}` : `user ${user}`}\t${set ? `rps ${lim(now.rps)}\tup-bps ${lim(now.upBps)}\tdown-bps ${lim(now.downBps)}` : 'no limits'}\n`);
      return true;
    }
    case 'token create':
    case 'token list':
    case 'token revoke': {
      const a = parse(rest, ['name', 'action', 'resource', 'expires-in', 'id']);
      if (verb === 'list') {
        for (const t of (await api.call('GET', '/tokens')).tokens) out(tokenLine(t));
      } else if (verb === 'revoke') {
        await api.call('DELETE', `/tokens/${seg(need(a, 'id'))}`);
        out(`revoked ${one(a, 'id')}\n`);
      } else {
        const r = await api.call('POST', '/tokens', tokenRequest(a));
        out(`token ${r.token}\n${tokenLine(r)}`);
      }
      return true;
    }
    default:
      break;
  }
  if (noun === 'usage') {
    const a = parse([verb, ...rest].filter((x): x is string => x !== undefined), ['bucket', 'account'], ['json']);
    const json = a.bools.has('json');
    if (one(a, 'bucket') !== undefined || one(a, 'account') !== undefined) return runRemote(conn, ['quota', 'show', ...[verb, ...rest].filter((x): x is string => x !== undefined)], out);
    const r = await api.call('GET', '/usage');
    if (json) out(JSON.stringify([...r.buckets, ...r.accounts], null, 2) + '\n');
    else {
      for (const b of r.buckets) out(usageLine(`bucket ${b.bucket}`, b));
      for (const x of r.accounts) out(usageLine(`account ${x.account}`, x));
    }
    return true;
  }
  if (noun === 'work') {
    const a = parse([verb, ...rest].filter((x): x is string => x !== undefined), [], ['json']);
    const st = await api.call('GET', '/work');
    if (a.bools.has('json')) out(JSON.stringify(st, null, 2) + '\n');
    else {
      const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
      out(`${'kind'.padEnd(24)} ${'depth'.padStart(9)} ${'due'.padStart(9)} ${'running'.padStart(8)} ${'failing'.padStart(8)} ${'lag'.padStart(9)} ${'attempts'.padStart(8)}\n`);
      for (const k of st.kinds) out(`${k.kind.padEnd(24)} ${String(k.depth).padStart(9)} ${String(k.due).padStart(9)} ${String(k.running).padStart(8)} ${String(k.failing).padStart(8)} ${secs(k.lagMs).padStart(9)} ${String(k.maxAttempts).padStart(8)}\n`);
      out(`${'total'.padEnd(24)} ${String(st.depth).padStart(9)} ${''.padStart(9)} ${''.padStart(8)} ${String(st.failing).padStart(8)} ${secs(st.lagMs).padStart(9)}\n`);
    }
    return true;
  }
  if (noun === 'replication' && (verb === 'status' || verb === 'resync')) {
    const a = parse(rest, [], ['json']);
    if (verb === 'resync') {
      if (a.positional.length !== 1) throw new CliError('the bucket is required: trove admin replication resync <bucket>');
      const r = await api.call('POST', `/buckets/${seg(a.positional[0]!)}/replication/resync`);
      out(`queued ${r.queued} versions of ${a.positional[0]} for replication\n`);
      return true;
    }
    const rows = (await api.call('GET', '/replication')).rules;
    if (a.bools.has('json')) out(JSON.stringify(rows, null, 2) + '\n');
    else {
      out(`${'bucket'.padEnd(24)} ${'rule'.padEnd(20)} ${'pending'.padStart(9)} ${'bytes'.padStart(14)} ${'failing'.padStart(8)} ${'lag'.padStart(9)}\n`);
      for (const r of rows) out(`${r.bucket.padEnd(24)} ${r.rule.padEnd(20)} ${String(r.pending).padStart(9)} ${String(r.bytes).padStart(14)} ${String(r.failing).padStart(8)} ${`${(r.lagMs / 1000).toFixed(1)}s`.padStart(9)}\n`);
    }
    return true;
  }
  return false;
}

/** The body of POST /tokens from `token create` flags (shared with the data-directory form). */
export function tokenRequest(a: { flags: Map<string, string[]> }): { name: string; actions: string[]; resources: string[]; expiresInSeconds?: number } {
  const name = a.flags.get('name')?.at(-1);
  if (!name) throw new CliError('--name is required');
  const actions = (a.flags.get('action') ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  if (!actions.length) throw new CliError('give the actions it allows: --action admin:ListAccounts (repeat, or comma-separate; admin:* for all)');
  const resources = (a.flags.get('resource') ?? []).flatMap((s) => s.split(',')).filter(Boolean);
  const exp = a.flags.get('expires-in')?.at(-1);
  let expiresInSeconds: number | undefined;
  if (exp !== undefined) {
    const m = /^(\d+)([smhd]?)$/.exec(exp);
    if (!m) throw new CliError('--expires-in is a duration: 3600, 90m, 12h or 30d');
    expiresInSeconds = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  }
  return { name, actions, resources: resources.length ? resources : ['*'], ...(expiresInSeconds !== undefined ? { expiresInSeconds } : {}) };
}

export function tokenLine(t: { id: string; name: string; scope: { actions: string[]; resources: string[] }; expiresAt: string | number }): string {
  const exp = typeof t.expiresAt === 'number' ? new Date(t.expiresAt).toISOString() : t.expiresAt;
  return `${t.id}\t${t.name}\texpires ${exp}\t${t.scope.actions.join(',')}\t${t.scope.resources.join(',')}\n`;
}

export { parse as parseArgs };
