// The cost of server access logs on the hot path: GET of 4 KiB objects (as get4k) from a bucket
// with logging on, so every response waits for its record to be committed to the metadata store
// (logging/service.ts: records of concurrent requests share a transaction and a sync). Compare
// its ratio with get4k's in the same run (`--only get4k,get4k-logging`). Delivery of the log
// objects happens once per --log-roll-seconds (default 300 s) and is not in the measured window.
// The bare server logs nothing.

import { KiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-get4k-logging';
const LOGS = 'bench-get4k-logging-target';
const KEYS: KeySpec = { kind: 'seq', prefix: 'obj/', count: 4096 };
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${LOGS}/*`, Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${BUCKET}` } } }],
});
const LOGGING = `<BucketLoggingStatus xmlns="http://doc.s3.amazonaws.com/2006-03-01"><LoggingEnabled><TargetBucket>${LOGS}</TargetBucket><TargetPrefix>log/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>`;

export const get4kLogging: Scenario = {
  id: 'get4k-logging',
  label: 'get 4KiB c16, bucket with server access logs',
  unit: 'ops/s',
  bare: 'small',
  goal: { kind: 'ratio', min: 0.5 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    if (t.kind === 'trove') {
      await createBucket(t, ctx, LOGS);
      await ctx.job('lib/jobs.js', 'putBucketSubresource', { endpoint: t.endpoint, bucket: LOGS, subresource: 'policy', body: POLICY });
      await ctx.job('lib/jobs.js', 'putBucketSubresource', { endpoint: t.endpoint, bucket: BUCKET, subresource: 'logging', body: LOGGING });
    }
    await roundTrip(t, ctx, BUCKET, 4 * KiB);
    await populate(t, ctx, BUCKET, KEYS, 4 * KiB);
  },
  async measure(t, ctx) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return fromLoad(await load(t, ctx, { op: 'get', bucket: BUCKET, size: 4 * KiB, concurrency, warmupSec, durationSec, keys: KEYS }), 'ops');
  },
};
