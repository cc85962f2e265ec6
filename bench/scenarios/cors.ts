// The cost of CORS on the hot path: GET of 4 KiB objects (as get4k) from a browser-like client
// that sends `Origin` to a bucket with CORS rules, so every response carries the matching rule's
// Access-Control-* headers (http/cors.ts, the bucket's rules cached by s3/bucket/config/cache.ts).
// Compare its ratio with get4k's in the same run. The bare server ignores the header.

import { KiB, createBucket, fromLoad, load, populate, roundTrip } from './common.js';
import type { KeySpec } from '../lib/keys.js';
import type { Scenario } from './types.js';

const BUCKET = 'bench-get4k-cors';
const KEYS: KeySpec = { kind: 'seq', prefix: 'obj/', count: 4096 };
const ORIGIN = 'https://app.example.com';
// Three rules, the matching one last, as a site with a few origins would have.
const CORS = `<CORSConfiguration>
${['https://admin.example.com', 'https://*.partner.example.org', ORIGIN]
  .map((o, i) => `<CORSRule><ID>r${i}</ID><AllowedOrigin>${o}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>`)
  .join('\n')}
</CORSConfiguration>`;

export const get4kCors: Scenario = {
  id: 'get4k-cors',
  label: 'get 4KiB c16 with Origin (CORS)',
  unit: 'ops/s',
  bare: 'small',
  goal: { kind: 'ratio', min: 0.7 },
  async setup(t, ctx) {
    await createBucket(t, ctx, BUCKET);
    if (t.kind === 'trove') await ctx.job('lib/jobs.js', 'putBucketSubresource', { endpoint: t.endpoint, bucket: BUCKET, subresource: 'cors', body: CORS });
    await roundTrip(t, ctx, BUCKET, 4 * KiB);
    await populate(t, ctx, BUCKET, KEYS, 4 * KiB);
  },
  async measure(t, ctx) {
    const { concurrency, warmupSec, durationSec } = ctx.opts;
    return fromLoad(await load(t, ctx, { op: 'get', bucket: BUCKET, size: 4 * KiB, concurrency, warmupSec, durationSec, keys: KEYS, headers: { origin: ORIGIN } }), 'ops');
  },
};
