// The shape of an S3 operation handler: it receives the parsed, authenticated request and returns
// what to send (or throws an S3Error). http/respond.ts turns the result into bytes on the wire.

import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { PooledBody } from '../http/pooled.js';
import type { Logger } from 'pino';
import type { AuthResult, DecodedBody, Identity } from '../auth/types.js';
import type { App } from '../app.js';
import type { Bucket, ObjectVersion } from '../store/meta/types.js';
import type { ParsedDoc, XmlLimits, XmlNode } from './xml.js';
import type { OperationSpec } from './operations.js';
import type { PostForm } from './object/PostObject.js';

/** Decoded query parameters. A parameter given without '=' (e.g. `?uploads`) has value ''. */
export type Query = ReadonlyMap<string, string>;

export interface S3Context {
  readonly requestId: string;
  readonly method: string;
  readonly op: OperationSpec;
  /** Bucket name from the path or the virtual host ('' for service-level requests). */
  readonly bucketName: string;
  /** Object key, decoded ('' when the request addresses a bucket or the service). */
  readonly key: string;
  readonly query: Query;
  readonly headers: IncomingHttpHeaders;
  readonly auth: AuthResult;
  readonly identity: Identity | null;
  readonly app: App;
  readonly log: Logger;
  /** Time the request arrived (ms since epoch). */
  readonly now: number;
  /** The addressed bucket, loaded before the handler runs for bucket and object operations. */
  bucket: Bucket | undefined;
  /**
   * GetObject / HeadObject without a version id, on a store that reads both at once
   * (MetaStore.getBucketWithLatest): the latest version of `key`, read with the bucket. Taken
   * (and cleared) by loadForRead instead of a read of its own.
   */
  latest?: { key: string; version: ObjectVersion | undefined } | undefined;
  /**
   * Declared length of the decoded body: Content-Length, or x-amz-decoded-content-length for
   * aws-chunked bodies; undefined when unknown.
   */
  readonly contentLength: number | undefined;
  /** POST object: the form, read up to its file and authenticated by the pipeline. */
  readonly form?: PostForm | undefined;
  /** Opens the request body (once), decoded and verified as the auth mode demands. */
  body(): DecodedBody;
  /**
   * Reads the body as an XML document whose root is `root`, parsing it as it streams in, within
   * the operation's `limits` (MaxMessageLengthExceeded / MalformedXML beyond). `observe` sees the
   * raw bytes (to verify a body digest). With `optional`, an empty body reads as `{}`.
   */
  readXml(root: string, limits: XmlLimits & { optional?: boolean }, observe?: (chunk: Buffer) => void): Promise<ParsedDoc>;
  /** Reads a small non-XML body (a JSON policy) whole; MaxMessageLengthExceeded beyond `limit` bytes. */
  readBody(limit: number): Promise<Buffer>;
  /** Whether authorisation granted an optional action (authz/requests.ts), e.g. s3:BypassGovernanceRetention. */
  granted(action: string): boolean;
  /** Whether the caller may perform `action` on object `key` of this bucket (per-object checks). */
  mayAccess(action: string, key: string): Promise<boolean>;
  /** The client's address (aws:SourceIp) and whether a trusted proxy says it came over https. */
  readonly transport: { sourceIp: string | undefined; forwardedHttps: boolean };
  /** Whether the caller may use a KMS key (kms:GenerateDataKey, kms:Decrypt; its ARN), in the same evaluation. */
  mayUseKey(action: string, keyArn: string): Promise<boolean>;
  /**
   * DeleteObjects: what it deleted, in request order (the version deleted, or the delete marker
   * it made): the server access log has a BATCH.DELETE.OBJECT record for each (logging/records.ts).
   */
  batchDeleted?: { key: string; versionId?: string | undefined }[] | undefined;
}

export interface S3Response {
  /** Default 200 (204 when there is neither xml nor body, for DELETE). */
  status?: number;
  headers?: Record<string, string | number | undefined>;
  /** An XML document to render. */
  xml?: { root: string; body: XmlNode; /** null: no xmlns (PostResponse, as S3 sends it). */ namespace?: string | null };
  /** Raw body: a string, a buffer or a stream of bytes. */
  body?: string | Buffer | Readable | PooledBody;
}

export type Handler = (ctx: S3Context) => Promise<S3Response>;

/** The bucket of a bucket/object operation (the pipeline guarantees it is loaded). */
export function bucketOf(ctx: S3Context): Bucket {
  if (!ctx.bucket) throw new Error(`operation ${ctx.op.name} needs a bucket`);
  return ctx.bucket;
}

/**
 * The account that owns what this request writes: the caller's; for an anonymous writer (a
 * bucket policy granting "*" s3:PutObject), the bucket owner, as S3 does when the bucket owner
 * owns every object.
 */
export function writerOf(ctx: S3Context): string {
  return ctx.identity?.userId ?? bucketOf(ctx).owner;
}
