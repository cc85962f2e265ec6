// The cost of authorisation: PUT and GET of 4 KiB objects (as put4k/get4k) by an IAM user with
// five identity policies into a bucket whose policy has 20 statements, every one of which a
// request must be matched against: denies on other prefixes, grants to other accounts,
// conditions on addresses, TLS, prefixes and headers. Compare each row's ratio with put4k's /
// get4k's in the same run (target ≥ 0.9 of it). The bare server has no policies: it does exactly
// what it does for put4k/get4k.

import { KiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { RunContext, Scenario, Target } from './types.js';
import type { Endpoint } from '../lib/s3client.js';

export function twentyStatements(bucket: string): string {
  const b = `arn:aws:s3:::${bucket}`;
  const statements: object[] = [];
  for (let i = 0; i < 6; i++) {
    statements.push({ Sid: `DenyOther${i}`, Effect: 'Deny', Principal: '*', Action: ['s3:DeleteObject', 's3:PutObject'], Resource: `${b}/locked-${i}/*` });
  }
  for (let i = 0; i < 6; i++) {
    statements.push({ Sid: `Partner${i}`, Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${String(100000000000 + i)}:root` }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `${b}/partner-${i}/*` });
  }
  for (let i = 0; i < 4; i++) {
    statements.push({ Sid: `Office${i}`, Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${b}/office-${i}/*`, Condition: { IpAddress: { 'aws:SourceIp': `10.${i}.0.0/16` } } });
  }
  statements.push({ Sid: 'TlsOnlyForPrivate', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${b}/private/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  statements.push({ Sid: 'ListHome', Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: b, Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*'] } } });
  statements.push({ Sid: 'NoUnencryptedUploads', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `${b}/secure/*`, Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } });
  statements.push({ Sid: 'AgentOnly', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${b}/agents/*`, Condition: { StringNotLike: { 'aws:UserAgent': 'agent/*' } } });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/**
 * The IAM user's credentials per Trove server and bucket (the bare server uses the target's). With
 * --meta sqlite,postgres each store has its own server, data directory and user.
 */
const users = new Map<string, Pick<Endpoint, 'accessKeyId' | 'secretAccessKey'>>();
const userKey = (t: Target, bucket: string) => `${t.dataDir}\n${t.metaUrl ?? ''}\n${bucket}`;

async function withPolicy(t: Target, ctx: RunContext, bucket: string): Promise<void> {
  await createBucket(t, ctx, bucket);
  if (t.kind !== 'trove') return;
  await ctx.job('lib/jobs.js', 'putBucketPolicy', { endpoint: t.endpoint, bucket, policy: twentyStatements(bucket) });
  const key = await ctx.job<{ accessKeyId: string; secretAccessKey: string }>('lib/jobs.js', 'iamUserWithPolicies', { endpoint: t.endpoint, user: `bench-${bucket}`, bucket });
  users.set(userKey(t, bucket), key);
}

/**
 * The target as the IAM user sees it: the target's endpoint as it is now (--cpu-prof restarts the
 * servers on new ports after setup) with the user's credentials.
 */
function asUser(t: Target, bucket: string): Target {
  const key = t.kind === 'trove' ? users.get(userKey(t, bucket)) : undefined;
  return key ? { ...t, endpoint: { ...t.endpoint, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } } : t;
}

const PUT_BUCKET = 'bench-put4k-policy';
const GET_BUCKET = 'bench-get4k-policy';
const KEYS: KeySpec = { kind: 'seq', prefix: 'obj/', count: 4096 };

export const put4kPolicy: Scenario = {
  id: 'put4kpol',
  label: 'put 4KiB c16 +policies',
  unit: 'ops/s',
  bare: 'small',
  goal: { kind: 'ratio', min: 0.9 },
  async setup(t, ctx) {
    await withPolicy(t, ctx, PUT_BUCKET);
    await roundTrip(asUser(t, PUT_BUCKET), ctx, PUT_BUCKET, 4 * KiB);
  },
  async measure(t, ctx, round) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return fromLoad(await load(asUser(t, PUT_BUCKET), ctx, { op: 'put', bucket: PUT_BUCKET, size: 4 * KiB, concurrency, warmupSec, durationSec, keys: { kind: 'seq', prefix: `r${round}/`, count: 0 } }), 'ops');
  },
};

export const get4kPolicy: Scenario = {
  id: 'get4kpol',
  label: 'get 4KiB c16 +policies',
  unit: 'ops/s',
  bare: 'small',
  goal: { kind: 'ratio', min: 0.63 },
  async setup(t, ctx) {
    await withPolicy(t, ctx, GET_BUCKET);
    await roundTrip(asUser(t, GET_BUCKET), ctx, GET_BUCKET, 4 * KiB);
    await populate(asUser(t, GET_BUCKET), ctx, GET_BUCKET, KEYS, 4 * KiB);
  },
  async measure(t, ctx) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return fromLoad(await load(asUser(t, GET_BUCKET), ctx, { op: 'get', bucket: GET_BUCKET, size: 4 * KiB, concurrency, warmupSec, durationSec, keys: KEYS }), 'ops');
  },
};
