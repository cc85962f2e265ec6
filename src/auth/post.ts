// POST object (browser-based uploads): who is asking is said by form fields, not headers.
//  - SigV4: x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature = hex HMAC-SHA256 of
//    the base64 policy under the SigV4 signing key of the credential's scope;
//  - SigV2: AWSAccessKeyId, signature = base64 HMAC-SHA1 of the base64 policy under the secret;
//  - x-amz-security-token with temporary credentials (either version);
//  - no signature field at all: anonymous, allowed where a bucket policy or an ACL lets anyone
//    write (decided by authorisation, like any anonymous request).
// A signed form must carry a policy: a base64 JSON document with an expiration and conditions
// that every field of the form must meet (sigv4-HTTPPOSTConstructPolicy). The conditions are
// checked here, before any byte of the file is stored; content-length-range is returned for the
// upload to enforce as the file streams in.

import { createHmac } from 'node:crypto';
import { S3Error } from '../s3/errors.js';
import { identityOf } from './context.js';
import { ALGORITHM, hmacHex, signaturesEqual, signingKey } from './signing.js';
import { lookupCredential, parseCredentialScope } from './v4common.js';
import { parseAmzDate } from './clock.js';
import type { AuthResult, CredentialLookup } from './types.js';

/** A form's fields by lower-case name (S3 matches field names case-insensitively). */
export type FormFields = ReadonlyMap<string, string>;

export interface PostAuthRequest {
  /** Fields before the file, lower-case names; the URL's bucket stands in as "bucket". */
  fields: FormFields;
  region: string;
  now: Date;
}

export interface LengthRange {
  min: number;
  max: number;
}

export interface PostAuthResult {
  auth: AuthResult;
  /** content-length-range of the policy (the intersection, if several). */
  lengthRange?: LengthRange;
}

/**
 * Fields a policy need not name (sigv4-HTTPPOSTConstructPolicy: "except x-amz-signature, file,
 * policy, and field names that have an x-ignore- prefix"; the SigV2 signature and key id are
 * SigV2's x-amz-signature). Flexible checksums only make the upload fail when the bytes differ,
 * so they are exempt too, as Ceph RGW has them.
 */
function exempt(name: string): boolean {
  return (
    name === 'policy' ||
    name === 'x-amz-signature' ||
    name === 'signature' ||
    name === 'awsaccesskeyid' ||
    name === 'file' ||
    name.startsWith('x-ignore-') ||
    name.startsWith('x-amz-checksum-')
  );
}

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, {
    ArgumentName: name,
    ArgumentValue: '',
  });
}

function invalidPolicy(detail: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${detail}`);
}

function denied(detail: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${detail}`);
}

const ANONYMOUS: AuthResult = { method: 'anonymous', identity: null, payload: { kind: 'unsigned' } };

export async function authenticatePost(req: PostAuthRequest, lookup: CredentialLookup): Promise<PostAuthResult> {
  const f = req.fields;
  const v4 = f.has('x-amz-signature') || f.has('x-amz-algorithm') || f.has('x-amz-credential');
  const v2 = f.has('signature') || f.has('awsaccesskeyid');
  if (v4 && v2) {
    throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the x-amz-signature or the signature field of the form should be specified', { ArgumentName: 'signature' });
  }
  if (!v4 && !v2) {
    // A policy nobody signed says nothing, a token without a signature proves nothing: refuse
    // them rather than pretend they were checked.
    if (f.has('policy') || f.has('x-amz-security-token')) throw missingField('AWSAccessKeyId');
    return { auth: ANONYMOUS };
  }
  const policyB64 = f.get('policy');
  const token = f.get('x-amz-security-token') || undefined;
  let auth: AuthResult;
  if (v4) {
    for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature', 'policy']) if (!f.has(name)) throw missingField(name);
    const algorithm = f.get('x-amz-algorithm')!;
    if (algorithm !== ALGORITHM) {
      throw new S3Error('InvalidArgument', `X-Amz-Algorithm only supports "${ALGORITHM}"`, { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm });
    }
    const scope = parseCredentialScope(f.get('x-amz-credential')!, 'query', { regions: [req.region], service: 's3' });
    const amzDate = f.get('x-amz-date')!;
    if (!parseAmzDate(amzDate)) throw new S3Error('InvalidArgument', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`, { ArgumentName: 'x-amz-date', ArgumentValue: amzDate });
    if (amzDate.slice(0, 8) !== scope.date) {
      throw new S3Error('InvalidArgument', `Invalid credential date "${scope.date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`, { ArgumentName: 'x-amz-credential' });
    }
    const credential = await lookupCredential(lookup, scope.accessKeyId, token, req.now);
    const expected = hmacHex(signingKey(credential.secretAccessKey, scope.date, scope.region), policyB64!);
    const provided = f.get('x-amz-signature')!;
    if (!signaturesEqual(expected, provided)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: scope.accessKeyId, StringToSign: policyB64!, SignatureProvided: provided });
    }
    auth = { method: 'post-policy', identity: identityOf(credential), payload: { kind: 'unsigned' } };
  } else {
    for (const name of ['AWSAccessKeyId', 'signature', 'policy']) if (!f.has(name.toLowerCase())) throw missingField(name);
    const accessKeyId = f.get('awsaccesskeyid')!;
    const credential = await lookupCredential(lookup, accessKeyId, token, req.now);
    const expected = createHmac('sha1', credential.secretAccessKey).update(policyB64!, 'utf8').digest('base64');
    const provided = f.get('signature')!;
    if (!signaturesEqual(expected, provided)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKeyId, StringToSign: policyB64!, SignatureProvided: provided });
    }
    auth = { method: 'post-policy', identity: identityOf(credential), payload: { kind: 'unsigned' } };
  }
  const policy = parsePolicy(policyB64!);
  const lengthRange = checkPolicy(policy, f, req.now);
  return lengthRange ? { auth, lengthRange } : { auth };
}

// ---- the policy document

export type Condition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { kind: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  expiration: Date;
  conditions: Condition[];
}

/** ISO 8601 with a time and UTC ("2007-12-01T12:00:00.000Z", "2007-12-01T12:00:00Z"). */
const EXPIRATION = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$/;

function parseExpiration(v: unknown): Date {
  const m = typeof v === 'string' ? EXPIRATION.exec(v) : null;
  const t = m ? Date.parse(v as string) : NaN;
  if (!m || Number.isNaN(t)) throw invalidPolicy(`Invalid 'expiration' value: '${String(v)}'`);
  return new Date(t);
}

/** How a condition is quoted in "Policy Condition failed: …" (field names as S3 prints them, lower-case). */
function conditionText(op: string, field: string, value: string): string {
  return JSON.stringify([op, `$${field}`, value]).replace(/,/g, ', ');
}

function fieldOf(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.startsWith('$') || raw.length < 2) throw invalidPolicy(`Invalid condition field name: '${String(raw)}'`);
  return raw.slice(1).toLowerCase();
}

function lengthBound(v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidPolicy('Invalid content-length-range value');
  return n;
}

export function parsePolicy(b64: string): PostPolicy {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const obj = doc as Record<string, unknown>;
  // Names are case-sensitive: "EXPIRATION" is not the expiration.
  for (const k of Object.keys(obj)) if (k !== 'expiration' && k !== 'conditions') throw invalidPolicy(`Unexpected field '${k}'.`);
  if (!('expiration' in obj)) throw invalidPolicy('Policy missing expiration.');
  if (!('conditions' in obj)) throw invalidPolicy('Policy missing conditions.');
  const expiration = parseExpiration(obj.expiration);
  if (!Array.isArray(obj.conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a list.");
  const conditions: Condition[] = [];
  for (const c of obj.conditions as unknown[]) {
    if (Array.isArray(c)) {
      const op = typeof c[0] === 'string' ? c[0].toLowerCase() : '';
      if (op === 'content-length-range') {
        if (c.length !== 3) throw invalidPolicy('Invalid content-length-range condition: it needs a minimum and a maximum.');
        const min = lengthBound(c[1]);
        const max = lengthBound(c[2]);
        if (min > max) throw invalidPolicy('Invalid content-length-range condition: the minimum exceeds the maximum.');
        conditions.push({ kind: 'content-length-range', min, max });
      } else if (op === 'eq' || op === 'starts-with') {
        if (c.length !== 3 || typeof c[2] !== 'string') throw invalidPolicy(`Invalid '${op}' condition: ${JSON.stringify(c)}`);
        const field = fieldOf(c[1]);
        conditions.push({ kind: op, field, value: c[2], text: conditionText(op, field, c[2]) });
      } else {
        throw invalidPolicy(`Invalid condition type: ${JSON.stringify(c[0] ?? null)}`);
      }
    } else if (typeof c === 'object' && c !== null) {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1) throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      const [name, value] = entries[0]!;
      if (typeof value !== 'string') throw invalidPolicy(`Invalid Simple-Condition: the value of '${name}' must be a string.`);
      const field = name.toLowerCase();
      conditions.push({ kind: 'eq', field, value, text: conditionText('eq', field, value) });
    } else {
      throw invalidPolicy(`Invalid condition: ${JSON.stringify(c)}`);
    }
  }
  return { expiration, conditions };
}

/**
 * Checks a policy against the form: not expired, every condition met, every field (but the
 * exempt ones) named by some condition. Returns the allowed file size range, if the policy sets one.
 */
export function checkPolicy(policy: PostPolicy, fields: FormFields, now: Date): LengthRange | undefined {
  if (now.getTime() > policy.expiration.getTime()) throw denied('Policy expired.');
  const covered = new Set<string>();
  let range: LengthRange | undefined;
  for (const c of policy.conditions) {
    if (c.kind === 'content-length-range') {
      range = range ? { min: Math.max(range.min, c.min), max: Math.min(range.max, c.max) } : { min: c.min, max: c.max };
      continue;
    }
    covered.add(c.field);
    const value = fields.get(c.field);
    if (!matches(c, value)) throw denied(`Policy Condition failed: ${c.text}`);
  }
  const extra = [...fields.keys()].filter((name) => !exempt(name) && !covered.has(name));
  if (extra.length > 0) throw denied(`Extra input fields: ${extra.join(', ')}`);
  return range;
}

function matches(c: Extract<Condition, { kind: 'eq' | 'starts-with' }>, value: string | undefined): boolean {
  // An absent field is the empty string ("eq" to "" allows it to be left out).
  if (c.kind === 'eq') return (value ?? '') === c.value;
  // An empty prefix allows anything, the field's absence included.
  if (c.value === '') return true;
  if (value === undefined) return false;
  // Content-Type may list several types: each must match.
  if (c.field === 'content-type') return value.split(',').every((v) => v.trim().startsWith(c.value));
  return value.startsWith(c.value);
}
