// Request parsing: which bucket and key a request addresses (path-style or virtual-hosted-style),
// its decoded query, and the request id.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { S3Error } from '../s3/errors.js';
import { cidrContains, parseIp, type Cidr } from '../authz/policy/ip.js';

export const MAX_KEY_BYTES = 1024;

export interface ParsedRequest {
  rawPath: string;
  rawQuery: string;
  bucket: string;
  key: string;
  query: Map<string, string>;
  /** True when the bucket came from the Host header. */
  virtualHost: boolean;
}

const PROCESS_TAG = randomBytes(4).toString('hex').toUpperCase();
let requestCounter = 0;

/** 16 upper-case hex characters, unique per process run, like S3's request ids. */
export function nextRequestId(): string {
  requestCounter = (requestCounter + 1) >>> 0;
  return PROCESS_TAG + requestCounter.toString(16).toUpperCase().padStart(8, '0');
}

/** x-amz-id-2: identifies the node that served the request. */
export const HOST_ID = randomBytes(32).toString('base64');

function decode(s: string, plusIsSpace: boolean): string {
  if (!s.includes('%') && !(plusIsSpace && s.includes('+'))) return s;
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** Splits and decodes a raw query string. The first occurrence of a name wins. */
export function parseQuery(raw: string): Map<string, string> {
  const m = new Map<string, string>();
  if (!raw) return m;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq), true);
    const value = eq < 0 ? '' : decode(part.slice(eq + 1), true);
    if (!m.has(name)) m.set(name, value);
  }
  return m;
}

/** The bucket named by a virtual host `<bucket>.<domain>`, if the Host header is one. */
function bucketFromHost(host: string | undefined, domains: string[]): string | undefined {
  if (!host || domains.length === 0) return undefined;
  let h = host.toLowerCase();
  // strip the port (IPv6 literals are never virtual hosts)
  if (h.startsWith('[')) return undefined;
  const colon = h.lastIndexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  for (const d of domains) {
    if (h.length > d.length + 1 && h.endsWith('.' + d)) return h.slice(0, h.length - d.length - 1);
  }
  return undefined;
}

export function parseRequest(req: IncomingMessage, domains: string[]): ParsedRequest {
  let target = req.url ?? '/';
  // Node reads the request line as latin1; a client that sent raw (unescaped) UTF-8 meant UTF-8.
  if (/[\x80-\xff]/.test(target)) target = Buffer.from(target, 'latin1').toString('utf8');
  // absolute-form request targets (sent to proxies): keep only the path and query
  if (!target.startsWith('/')) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*(.*)$/.exec(target);
    if (!m) throw new S3Error('InvalidURI');
    target = m[1] || '/';
  }
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  const query = parseQuery(rawQuery);

  let bucket: string;
  let key: string;
  const vhostBucket = bucketFromHost(req.headers.host, domains);
  if (vhostBucket !== undefined) {
    bucket = vhostBucket;
    key = decode(rawPath.slice(1), false);
  } else {
    const path = rawPath.slice(1);
    // "//bucket/key" names no bucket: never read it as the service (ListBuckets) or as a key.
    if (path.startsWith('/')) throw new S3Error('InvalidURI');
    const slash = path.indexOf('/');
    bucket = decode(slash >= 0 ? path.slice(0, slash) : path, false);
    key = slash >= 0 ? decode(path.slice(slash + 1), false) : '';
  }
  if (key.length > 0) {
    if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { MaxSizeAllowed: MAX_KEY_BYTES, Size: Buffer.byteLength(key, 'utf8') });
    if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed()) throw new S3Error('InvalidURI');
  }
  return { rawPath, rawQuery, bucket, key, query, virtualHost: vhostBucket !== undefined };
}

/**
 * The client's address, as bucket policies see it (aws:SourceIp). The socket's peer, unless that
 * peer is a configured proxy: then the right-most address of X-Forwarded-For that is not itself a
 * trusted proxy (every address left of it could have been written by the client).
 */
export function clientAddress(req: IncomingMessage, trusted: readonly Cidr[]): string | undefined {
  const peer = normaliseIp(req.socket.remoteAddress);
  if (peer === undefined || trusted.length === 0 || !isTrusted(peer, trusted)) return peer;
  const xff = req.headers['x-forwarded-for'];
  if (xff === undefined) return peer;
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseIp(hops[i]);
    if (hop === undefined) return peer;
    if (!isTrusted(hop, trusted)) return hop;
  }
  return peer;
}

/** Whether the socket's peer is a trusted proxy that says the client came over https (X-Forwarded-Proto). */
export function forwardedHttps(req: IncomingMessage, trusted: readonly Cidr[]): boolean {
  const peer = normaliseIp(req.socket.remoteAddress);
  if (peer === undefined || trusted.length === 0 || !isTrusted(peer, trusted)) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

function isTrusted(ip: string, trusted: readonly Cidr[]): boolean {
  const a = parseIp(ip);
  return a !== undefined && trusted.some((c) => cidrContains(c, a));
}

/** "::ffff:127.0.0.1" (an IPv4 peer on a dual-stack socket) → "127.0.0.1". */
function normaliseIp(ip: string | undefined): string | undefined {
  if (ip === undefined) return undefined;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1] : ip;
}
