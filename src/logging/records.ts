// From what the request pipeline knows about a request to the AccessRecord the log writes
// (logging/format.ts). Called from the one hook in http/server.ts, just before the status line.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthResult, Identity } from '../auth/types.js';
import { principalOf } from '../authz/authorize.js';
import type { OperationSpec } from '../s3/operations.js';
import type { Bucket } from '../store/meta/types.js';
import { formatRecord, operationOf, type AccessRecord } from './format.js';

export interface RequestFacts {
  bucket: Bucket;
  req: IncomingMessage;
  requestId: string;
  hostId: string;
  /** ms since epoch when the request arrived. */
  receivedAt: number;
  /** performance.now() when it arrived, when its body was all read (if it had one), and now. */
  started: number;
  bodyEnded: number | undefined;
  now: number;
  op: OperationSpec | undefined;
  key: string | undefined;
  query: ReadonlyMap<string, string> | undefined;
  auth: AuthResult | undefined;
  identity: Identity | null | undefined;
  remoteIp: string | undefined;
  status: number;
  errorCode: string | undefined;
  bytesSent: number;
  /** Decoded request body bytes read (object size of writes). */
  bodyBytes: number;
  headers: Record<string, string | number | undefined> | undefined;
  aclRequired: boolean;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

function requesterOf(identity: Identity | null | undefined): string | undefined {
  if (!identity) return undefined;
  const p = principalOf(identity);
  // An account's root is logged by its canonical id, IAM users and role sessions by their ARN.
  return p.kind === 'account-root' ? identity.userId : (p.arn ?? identity.userId);
}

const WRITES = new Set(['PutObject', 'PostObject', 'UploadPart']);
const READS = new Set(['GetObject', 'HeadObject']);

function objectSizeOf(f: RequestFacts): number | undefined {
  if (f.status >= 300 || !f.op) return undefined;
  if (WRITES.has(f.op.name)) return f.bodyBytes;
  if (!READS.has(f.op.name)) return undefined;
  const range = f.headers?.['Content-Range'] ?? f.headers?.['content-range'];
  const total = typeof range === 'string' ? /\/(\d+)$/.exec(range)?.[1] : undefined;
  if (total !== undefined) return Number(total);
  const length = f.headers?.['Content-Length'] ?? f.headers?.['content-length'];
  return length === undefined ? undefined : Number(length);
}

export function accessRecord(f: RequestFacts): AccessRecord {
  const method = f.req.method ?? 'GET';
  const version = f.headers?.['x-amz-version-id'];
  const m = f.auth?.method;
  return {
    bucketOwner: f.bucket.owner,
    bucket: f.bucket.name,
    time: f.receivedAt,
    remoteIp: f.remoteIp,
    requester: requesterOf(f.identity),
    requestId: f.requestId,
    operation: f.op ? operationOf(f.op.name, method, f.op.resource, f.op.sub) : `REST.${method}.${f.key ? 'OBJECT' : 'BUCKET'}`,
    key: f.key,
    requestUri: `${method} ${f.req.url ?? '/'} HTTP/${f.req.httpVersion}`,
    status: f.status,
    errorCode: f.errorCode,
    bytesSent: f.bytesSent,
    objectSize: objectSizeOf(f),
    totalTimeMs: f.now - f.started,
    turnAroundMs: f.now - (f.bodyEnded ?? f.started),
    referer: header(f.req, 'referer'),
    userAgent: header(f.req, 'user-agent'),
    versionId: version !== undefined ? String(version) : f.query?.get('versionId'),
    hostId: f.hostId,
    signatureVersion: m === 'sigv4-header' || m === 'sigv4-query' ? 'SigV4' : m === 'sigv2-header' || m === 'sigv2-query' ? 'SigV2' : undefined,
    authType: m === 'sigv4-header' || m === 'sigv2-header' || m === 'post-policy' ? 'AuthHeader' : m === 'sigv4-query' || m === 'sigv2-query' ? 'QueryString' : undefined,
    hostHeader: header(f.req, 'host'),
    ...tlsOf(f.req),
    aclRequired: f.aclRequired,
  };
}

/** Cipher suite and TLS version of a request over HTTPS (--tls-cert), as S3's records show them. */
function tlsOf(req: IncomingMessage): { cipherSuite?: string; tlsVersion?: string } {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true) return {};
  const cipher = socket.getCipher?.()?.name;
  const version = socket.getProtocol?.() ?? undefined;
  return { ...(cipher ? { cipherSuite: cipher } : {}), ...(version ? { tlsVersion: version } : {}) };
}

export function recordLine(f: RequestFacts): string {
  return formatRecord(accessRecord(f));
}

/**
 * The records of the objects a DeleteObjects deleted: S3 logs "a separate event for each object
 * deletion, with each event specifying only a single object key, regardless of the API used",
 * operation BATCH.DELETE.OBJECT, beside the request's own REST.POST.MULTI_OBJECT_DELETE record.
 */
export function batchDeleteLines(f: RequestFacts, deleted: readonly { key: string; versionId?: string | undefined }[]): string[] {
  const base = accessRecord(f);
  return deleted.map((d) =>
    formatRecord({ ...base, operation: 'BATCH.DELETE.OBJECT', key: d.key, versionId: d.versionId, status: 204, errorCode: undefined, bytesSent: 0, objectSize: undefined }),
  );
}
