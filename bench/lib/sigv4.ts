// A small, fast AWS Signature V4 signer for the load client.
//
// The signing key (HMAC chain over date/region/service) is cached per UTC day; the x-amz-date
// string per second. Each request then costs one SHA-256 of the canonical request and one
// HMAC-SHA256 of the string to sign. Checked against @smithy/signature-v4 by bench/lib/verify-signer.ts.

import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export interface SignerOptions {
  accessKeyId: string;
  secretAccessKey: string;
  region?: string;
  service?: string;
}

export interface SignInput {
  method: string;
  /** Path exactly as it goes on the wire (already percent-encoded). S3 does not re-encode it. */
  path: string;
  /** Query parameters, not encoded. */
  query?: Record<string, string> | undefined;
  /**
   * Headers to send and sign (names lower-case). `host` must be present. x-amz-date and
   * x-amz-content-sha256 are added by the signer when missing.
   */
  headers: Record<string, string>;
  /** Payload hash to sign; default UNSIGNED-PAYLOAD. */
  payloadHash?: string;
  /** Signing time; default now. */
  date?: Date;
}

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent plus !'()*). */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** Encodes an object key for the path: every byte but unreserved characters and '/'. */
export function encodeKey(key: string): string {
  return uriEncode(key).replace(/%2F/g, '/');
}

/** Canonical (sorted, encoded) query string; also what the client sends on the wire. */
export function canonicalQuery(query: Record<string, string> | undefined): string {
  if (!query) return '';
  const pairs: Array<[string, string]> = [];
  for (const name of Object.keys(query)) pairs.push([uriEncode(name), uriEncode(query[name]!)]);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  let out = '';
  for (const [k, v] of pairs) out += (out ? '&' : '') + k + '=' + v;
  return out;
}

/** Header value as SigV4 canonicalises it: trimmed, inner runs of spaces folded. */
function canonicalValue(v: string): string {
  const t = v.trim();
  return t.includes('  ') || t.includes('\t') || t.includes('\n') ? t.replace(/\s+/g, ' ') : t;
}

export class SigV4Signer {
  private readonly region: string;
  private readonly service: string;
  private keyDay = '';
  private key: KeyObject | undefined;
  private scope = '';
  private credPrefix = '';
  private dateSecond = -1;
  private amzDate = '';

  constructor(private readonly opts: SignerOptions) {
    this.region = opts.region ?? 'us-east-1';
    this.service = opts.service ?? 's3';
  }

  private amzDateFor(date: Date): string {
    const sec = Math.floor(date.getTime() / 1000);
    if (sec !== this.dateSecond) {
      this.dateSecond = sec;
      this.amzDate = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    }
    return this.amzDate;
  }

  private signingKey(day: string): KeyObject {
    if (day !== this.keyDay) {
      const kDate = createHmac('sha256', 'AWS4' + this.opts.secretAccessKey).update(day).digest();
      const kRegion = createHmac('sha256', kDate).update(this.region).digest();
      const kService = createHmac('sha256', kRegion).update(this.service).digest();
      // A KeyObject: cheaper for createHmac than a Buffer key, once per request.
      this.key = createSecretKey(createHmac('sha256', kService).update('aws4_request').digest());
      this.keyDay = day;
      this.scope = `${day}/${this.region}/${this.service}/aws4_request`;
      this.credPrefix = `AWS4-HMAC-SHA256 Credential=${this.opts.accessKeyId}/${this.scope}, SignedHeaders=`;
    }
    return this.key!;
  }

  /** Adds x-amz-date, x-amz-content-sha256 and authorization to `input.headers` (mutated, returned). */
  sign(input: SignInput): Record<string, string> {
    const h = input.headers;
    const payload = input.payloadHash ?? h['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD';
    h['x-amz-content-sha256'] = payload;
    const amzDate = h['x-amz-date'] ?? this.amzDateFor(input.date ?? new Date());
    h['x-amz-date'] = amzDate;
    const key = this.signingKey(amzDate.slice(0, 8));

    const names = Object.keys(h).filter((n) => n !== 'authorization');
    names.sort();
    let canonicalHeaders = '';
    for (const n of names) canonicalHeaders += n + ':' + canonicalValue(String(h[n])) + '\n';
    const signed = names.join(';');
    const canonical = `${input.method}\n${input.path}\n${canonicalQuery(input.query)}\n${canonicalHeaders}\n${signed}\n${payload}`;
    const hash = createHash('sha256').update(canonical).digest('hex');
    const sts = `AWS4-HMAC-SHA256\n${amzDate}\n${this.scope}\n${hash}`;
    const signature = createHmac('sha256', key).update(sts).digest('hex');
    h['authorization'] = `${this.credPrefix}${signed}, Signature=${signature}`;
    return h;
  }
}
