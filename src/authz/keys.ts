// The condition context of a request: the global aws:* keys and the S3 keys a policy may test,
// filled from the request as Amazon S3 fills them (Service Authorization Reference, "Condition
// keys for Amazon S3"; IAM User Guide, "AWS global condition context keys"). Keys that do not
// apply to a request are absent, never empty: a condition on an absent key does not match
// (except Null and the …IfExists forms).

import type { IncomingHttpHeaders } from 'node:http';
import type { AuthMethod } from '../auth/types.js';
import type { Query } from '../s3/handler.js';
import { principalKeys, type RequestPrincipal } from './policy/index.js';

/** What the pipeline knows about a request that conditions may test. */
export interface RequestFacts {
  principal: RequestPrincipal;
  method: AuthMethod;
  headers: IncomingHttpHeaders;
  query: Query;
  /** The client's address (the socket's peer, or X-Forwarded-For from a trusted proxy). */
  sourceIp: string | undefined;
  secureTransport: boolean;
  /** ms since epoch */
  now: number;
  /** When the request was signed (ms since epoch), for s3:signatureAge. */
  signedAt?: number;
}

const S3_HEADER_KEYS = [
  'x-amz-acl',
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
  'x-amz-content-sha256',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
  'x-amz-object-ownership',
];

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** aws:CurrentTime and aws:EpochTime change once a second: formatted once a second. */
let clock = { second: -1, currentTime: [''], epochTime: [''] };
function clockKeys(now: number): { currentTime: string[]; epochTime: string[] } {
  const second = Math.floor(now / 1000);
  if (second !== clock.second) {
    clock = { second, currentTime: [new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')], epochTime: [String(second)] };
  }
  return clock;
}

/** The global aws:* keys of a request, whatever the service (S3 or the IAM API). */
export function globalKeys(f: Pick<RequestFacts, 'principal' | 'headers' | 'sourceIp' | 'secureTransport' | 'now'>): Map<string, string[]> {
  const keys = principalKeys(f.principal);
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined) keys.set(k, [v]);
  };
  set('aws:sourceip', f.sourceIp);
  set('aws:securetransport', String(f.secureTransport));
  const t = clockKeys(f.now);
  keys.set('aws:currenttime', t.currentTime);
  keys.set('aws:epochtime', t.epochTime);
  set('aws:useragent', header(f.headers, 'user-agent'));
  set('aws:referer', header(f.headers, 'referer'));
  return keys;
}

/** The condition keys shared by every access request of one HTTP request (lower-cased names). */
export function requestKeys(f: RequestFacts): Map<string, string[]> {
  const keys = globalKeys(f);
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined) keys.set(k, [v]);
  };
  for (const name of S3_HEADER_KEYS) set(`s3:${name}`, header(f.headers, name));
  switch (f.method) {
    case 'sigv4-header':
    case 'sigv4-query':
      set('s3:signatureversion', 'AWS4-HMAC-SHA256');
      break;
    case 'sigv2-header':
    case 'sigv2-query':
      set('s3:signatureversion', 'AWS');
      break;
  }
  const authType = { 'sigv4-header': 'REST-HEADER', 'sigv2-header': 'REST-HEADER', 'sigv4-query': 'REST-QUERY-STRING', 'sigv2-query': 'REST-QUERY-STRING', 'post-policy': 'POST', anonymous: undefined }[f.method];
  set('s3:authtype', authType);
  if (f.signedAt !== undefined) set('s3:signatureage', String(Math.max(0, f.now - f.signedAt)));
  // Listing parameters (ListObjects v1/v2, ListObjectVersions): absent when not sent.
  set('s3:prefix', f.query.get('prefix'));
  set('s3:delimiter', f.query.get('delimiter'));
  set('s3:max-keys', f.query.get('max-keys'));
  set('s3:versionid', f.query.get('versionId'));
  set('s3:object-lock-mode', header(f.headers, 'x-amz-object-lock-mode'));
  set('s3:object-lock-retain-until-date', header(f.headers, 'x-amz-object-lock-retain-until-date'));
  set('s3:object-lock-legal-hold', header(f.headers, 'x-amz-object-lock-legal-hold'));
  const tagging = header(f.headers, 'x-amz-tagging');
  if (tagging !== undefined) {
    const tagKeys: string[] = [];
    for (const pair of tagging.split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      const dec = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      const k = dec(eq < 0 ? pair : pair.slice(0, eq));
      tagKeys.push(k);
      keys.set(`s3:requestobjecttag/${k.toLowerCase()}`, [dec(eq < 0 ? '' : pair.slice(eq + 1))]);
    }
    keys.set('s3:requestobjecttagkeys', tagKeys);
  }
  return keys;
}
