// The server access log record, in Amazon S3's format: one line per request, 26 fields separated
// by spaces, in this order (S3 User Guide, "Amazon S3 server access log format"):
//   bucket owner, bucket, [time], remote IP, requester, request ID, operation, key,
//   "request-URI", HTTP status, error code, bytes sent, object size, total time, turn-around time,
//   "referer", "user-agent", version ID, host ID, signature version, cipher suite,
//   authentication type, host header, TLS version, access point ARN, ACL required
// A field without a value is `-` (bytes sent of 0 too); the three quoted fields are `"-"` when
// empty. The time is `[06/Feb/2019:00:00:38 +0000]`, UTC. The key is URL-encoded (`/` kept).
// Inside quotes, `"` and `\` are escaped with a backslash, and so that a record stays one line of
// printable text, control characters (and anything outside printable ASCII in unquoted fields)
// are written \xHH; no field other than the quoted ones and the time contains a space.
// Pure: src/logging/records.ts gathers the values, test/logging-format.test.ts parses the output.

export interface AccessRecord {
  /** Canonical id of the source bucket's owner. */
  bucketOwner: string;
  bucket: string;
  /** ms since epoch: when the request was received. */
  time: number;
  remoteIp?: string | undefined;
  /** Canonical id (account root), IAM ARN (users, role sessions); undefined: anonymous. */
  requester?: string | undefined;
  requestId: string;
  /** e.g. REST.GET.OBJECT (operationOf). */
  operation: string;
  key?: string | undefined;
  /** `GET /bucket/key?x HTTP/1.1` */
  requestUri: string;
  status: number;
  errorCode?: string | undefined;
  bytesSent: number;
  objectSize?: number | undefined;
  totalTimeMs: number;
  turnAroundMs?: number | undefined;
  referer?: string | undefined;
  userAgent?: string | undefined;
  versionId?: string | undefined;
  hostId: string;
  signatureVersion?: 'SigV2' | 'SigV4' | undefined;
  cipherSuite?: string | undefined;
  authType?: 'AuthHeader' | 'QueryString' | undefined;
  hostHeader?: string | undefined;
  tlsVersion?: string | undefined;
  accessPointArn?: string | undefined;
  aclRequired?: boolean | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => (n < 10 ? '0' : '') + n;

/** `[06/Feb/2019:00:00:38 +0000]` */
export function logTime(ms: number): string {
  const d = new Date(ms);
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

const hex = (c: string) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');

/** An unquoted field: `-` when empty; no space, quote, bracket or control character survives. */
function bare(v: string | number | undefined): string {
  if (v === undefined || v === '') return '-';
  const s = String(v);
  return /^[\x21\x23-\x5a\x5c\x5e-\x7e]+$/.test(s) ? s : s.replace(/[^\x21\x23-\x5a\x5c\x5e-\x7e]/gu, (c) => (c.charCodeAt(0) > 0x7e ? utf8Escape(c) : hex(c)));
}

/** A quoted field: `"-"` when empty; `"` and `\` escaped, control characters as \xHH. */
function quoted(v: string | undefined): string {
  if (v === undefined || v === '') return '"-"';
  return '"' + v.replace(/[\\"]/g, (c) => '\\' + c).replace(/[\x00-\x1f\x7f]/g, hex) + '"';
}

/** Percent-encoded UTF-8 of one character (a lone surrogate as U+FFFD). */
function utf8Escape(c: string): string {
  return [...Buffer.from(c, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/** The key as S3 logs it: URL-encoded, `/` kept. */
export function logKey(key: string): string {
  return key.replace(/[^A-Za-z0-9\-_.~/]/gu, utf8Escape);
}

export function formatRecord(r: AccessRecord): string {
  return [
    bare(r.bucketOwner),
    bare(r.bucket),
    logTime(r.time),
    bare(r.remoteIp),
    bare(r.requester),
    bare(r.requestId),
    bare(r.operation),
    r.key === undefined || r.key === '' ? '-' : bare(logKey(r.key)),
    quoted(r.requestUri),
    String(r.status),
    bare(r.errorCode),
    r.bytesSent > 0 ? String(r.bytesSent) : '-',
    r.objectSize === undefined ? '-' : String(r.objectSize),
    String(Math.max(0, Math.round(r.totalTimeMs))),
    r.turnAroundMs === undefined ? '-' : String(Math.max(0, Math.round(r.turnAroundMs))),
    quoted(r.referer),
    quoted(r.userAgent),
    bare(r.versionId),
    bare(r.hostId),
    bare(r.signatureVersion),
    bare(r.cipherSuite),
    bare(r.authType),
    bare(r.hostHeader),
    bare(r.tlsVersion),
    bare(r.accessPointArn),
    r.aclRequired ? 'Yes' : '-',
  ].join(' ');
}

/** The operation's resource part, by the sub-resource that selects it (S3's own names). */
const SUB_NAMES: Record<string, string> = {
  acl: 'ACL',
  tagging: 'TAGGING',
  versioning: 'VERSIONING',
  logging: 'LOGGING_STATUS',
  policy: 'BUCKETPOLICY',
  policyStatus: 'POLICY_STATUS',
  location: 'LOCATION',
  cors: 'CORS',
  website: 'WEBSITE',
  lifecycle: 'LIFECYCLE',
  encryption: 'ENCRYPTION',
  'object-lock': 'OBJECT_LOCK_CONFIGURATION',
  retention: 'RETENTION',
  'legal-hold': 'LEGAL_HOLD',
  publicAccessBlock: 'PUBLIC_ACCESS_BLOCK',
  ownershipControls: 'OWNERSHIP_CONTROLS',
  notification: 'NOTIFICATION',
  replication: 'REPLICATION',
  requestPayment: 'REQUEST_PAYMENT',
  accelerate: 'ACCELERATE',
  attributes: 'OBJECT_ATTRIBUTES',
  versions: 'BUCKETVERSIONS',
  restore: 'RESTORE',
  select: 'SELECT',
  torrent: 'TORRENT',
};

/** Operations whose log name is not METHOD + resource. */
const NAMED: Record<string, string> = {
  GetObject: 'REST.GET.OBJECT',
  HeadObject: 'REST.HEAD.OBJECT',
  PutObject: 'REST.PUT.OBJECT',
  PostObject: 'REST.POST.OBJECT',
  DeleteObject: 'REST.DELETE.OBJECT',
  // A copy is logged by its HTTP method on the destination (REST.HTTP_method.resource_type).
  CopyObject: 'REST.PUT.OBJECT',
  UploadPartCopy: 'REST.PUT.PART',
  UploadPart: 'REST.PUT.PART',
  CreateMultipartUpload: 'REST.POST.UPLOADS',
  CompleteMultipartUpload: 'REST.POST.UPLOAD',
  AbortMultipartUpload: 'REST.DELETE.UPLOAD',
  ListParts: 'REST.GET.UPLOAD',
  ListMultipartUploads: 'REST.GET.UPLOADS',
  DeleteObjects: 'REST.POST.MULTI_OBJECT_DELETE',
  ListObjects: 'REST.GET.BUCKET',
  ListObjectsV2: 'REST.GET.BUCKET',
  ListObjectVersions: 'REST.GET.BUCKETVERSIONS',
  HeadBucket: 'REST.HEAD.BUCKET',
  CreateBucket: 'REST.PUT.BUCKET',
  DeleteBucket: 'REST.DELETE.BUCKET',
  GetObjectTagging: 'REST.GET.OBJECT_TAGGING',
  PutObjectTagging: 'REST.PUT.OBJECT_TAGGING',
  DeleteObjectTagging: 'REST.DELETE.OBJECT_TAGGING',
  PreflightCORS: 'REST.OPTIONS.PREFLIGHT',
};

/**
 * The log's operation for an S3 operation: `REST.<method>.<resource>`, e.g. REST.GET.OBJECT,
 * REST.PUT.ACL, REST.POST.MULTI_OBJECT_DELETE; copies are PUTs of the destination object or part.
 */
export function operationOf(name: string, method: string, resource: 'bucket' | 'object' | 'service' | 'account', sub: readonly string[] | undefined): string {
  const named = NAMED[name];
  if (named) return named;
  const s = sub?.find((x) => SUB_NAMES[x] !== undefined);
  const what = s ? SUB_NAMES[s]! : sub && sub.length ? sub[0]!.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase() : resource === 'object' ? 'OBJECT' : 'BUCKET';
  return `REST.${method}.${what}`;
}
