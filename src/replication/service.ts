// Bucket replication: what a write records (the outbox) and what the engine then does.
//
// Source side. A write of a version a rule matches (PutObject, POST, CopyObject, Complete) stores
// the version with x-amz-replication-status PENDING and records a `replicate` work item in the
// same transaction (ReplicationService.forWrite); a simple DELETE records one for its delete
// marker when the rule replicates delete markers; tag, retention and legal-hold changes record one
// that re-sends the version's metadata. Versions deleted by version id are not replicated (as S3).
//
// The handler (ReplicationService.handle) copies the version to the destination with the
// remote's credentials (src/replication/remotes.ts): streamed from the blob store, one PutObject,
// or for a multipart object one UploadPart per source part, so the ETag (md5 of part md5s) comes
// out the same; the ETag the destination answers must be the source's. Then the source version
// is COMPLETED; after FAIL_AFTER failed attempts it shows FAILED while the item keeps being
// retried with backoff (never dropped), and COMPLETED once it gets through.
//
// Encrypted versions: SSE-S3 and SSE-KMS versions are decrypted here and sent with the SSE headers
// that make the destination encrypt them again — SSE-S3 as SSE-S3, SSE-KMS (only where the rule
// selects SseKmsEncryptedObjects, as S3) with the rule's ReplicaKmsKeyID. An SSE-KMS version's
// ETag is not an MD5 and depends on its data key, so the destination's cannot be compared: its
// plaintext MD5 is computed first (checked against the ETag) and sent as Content-MD5, which the
// destination verifies. SSE-C versions cannot be replicated: their key was never stored here, and
// a replica must be readable with the customer's key: they end FAILED at once, not retried.
// A version in an archive tier is read through from the tier (replication is not a client read).
//
// A version that ends FAILED records s3:Replication:OperationFailedReplication with the change
// (replicationEventData with S3's failureReason codes where one applies).
//
// Destination side (another Trove). The replica writes carry `x-trove-replica-version-id`: the
// version is written with the source's version id, REPLICA status, and records no replication
// work of its own — so two buckets replicating to each other (active-active) do not loop.
// Metadata pushes carry `x-trove-replica: true` for the same reason. Both headers are honoured only
// for a caller allowed s3:ReplicateObject / s3:ReplicateDelete / s3:ReplicateTags (authz/requests.ts):
// an ordinary client sending them is refused (AccessDenied), and `x-amz-replication-status` sent by
// a client is never stored.

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  AbortMultipartUploadCommand,
} from '@aws-sdk/client-s3';
import type { App } from '../app.js';
import { BucketConfigCache } from '../s3/bucket/config/cache.js';
import { bodyChunks, closeBody, objectBody } from '../s3/object/read.js';
import { encodeHeaderText } from '../s3/object/headers.js';
import type { Bucket, MetaStore, NewWork, ObjectVersion, ReplicationStatus, WorkItem, WorkSpec } from '../store/meta/types.js';
import type { SseDescriptor } from '../sse/object.js';
import { encryptedEtag, openDataKey } from '../sse/object.js';
import { readable } from '../tiering/read.js';
import { NOTIFY_KIND } from '../notify/notifier.js';
import { pooledChunks } from '../http/pooled.js';
import { deserializeReplication, matchRule, serializeReplication, type ReplicationConfig, type ReplicationRule } from './config.js';
import { RemoteRegistry, type Remote } from './remotes.js';

export const REPLICATE_KIND = 'replicate';
/** Header of replica writes: the version id the replica must have. */
export const REPLICA_VERSION_HEADER = 'x-trove-replica-version-id';
/** Header of replicated metadata changes (tags, retention, legal hold). */
export const REPLICA_HEADER = 'x-trove-replica';
/** Failed attempts after which a source version shows FAILED (it is still retried). */
export const FAIL_AFTER = 3;

export interface ReplicatePayload {
  /** Source bucket name. */
  b: string;
  k: string;
  /** Version id (of the version, or of the delete marker). */
  v: string;
  op: 'put' | 'marker' | 'meta';
  /** Rule id. */
  r: string;
  /** Bytes to copy (for pending-bytes figures). */
  s: number;
  /** Queued by a resync: the destination may have the version already. */
  x?: boolean;
}

/**
 * A version that cannot be replicated, with S3's failureReason code (or one of ours where S3 has
 * none: see README). `final`: retrying cannot help (an SSE-C version), the version ends FAILED now.
 */
export class ReplicationFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly final = false,
  ) {
    super(message);
  }
}

/** S3's failureReason for an error of a replication attempt. */
export function failureReason(e: unknown): string {
  if (e instanceof ReplicationFailure) return e.reason;
  if (e instanceof S3ServiceException) {
    if (e.name === 'NoSuchBucket') return 'DstBucketNotFound';
    if (e.name === 'AccessDenied') return 'DstPutObjectNotPermitted';
    if (e.name === 'KMS.NotFoundException') return 'DstKmsKeyNotFound';
    if (e.name === 'KMS.DisabledException') return 'DstKmsKeyInvalidState';
    if (e.name === 'InvalidRequest' && /versioning/i.test(e.message)) return 'DstBucketUnversioned';
    // The destination's own error code (e.g. ServiceUnavailable, InvalidObjectState).
    return e.name;
  }
  return 'DstConnectionFailed';
}

/** A version id minted by a Trove (32 hex digits). */
export const VERSION_ID = /^[0-9a-f]{32}$/;

export class ReplicationService {
  readonly configs: BucketConfigCache<ReplicationConfig>;
  readonly remotes: RemoteRegistry;
  private readonly clients = new Map<string, { client: S3Client; key: string }>();

  constructor(
    private readonly meta: MetaStore,
    master: Buffer | undefined,
    private readonly log: Logger,
  ) {
    this.configs = new BucketConfigCache(meta, 'replication', deserializeReplication, serializeReplication);
    this.remotes = new RemoteRegistry(meta, master);
  }

  /**
   * For a new version of `key` (not a replica): its status (PENDING when a rule replicates it) and
   * the work recorded with it.
   */
  async forWrite(bucket: Bucket, key: string, tags: readonly [string, string][] | undefined, size: number, sse?: SseDescriptor['a']): Promise<{ status?: ReplicationStatus; work?: WorkSpec }> {
    const rule = matchRule(await this.configs.get(bucket), key, tags);
    if (!rule) return {};
    // SSE-KMS objects are replicated only by a rule that selects them (S3: not eligible otherwise, no status).
    if (sse === 'aws:kms' && !rule.sseKms) return {};
    return { status: 'PENDING', work: this.workFor(bucket, key, rule, 'put', size) };
  }

  /** For a simple DELETE (a delete marker, in a versioned bucket). */
  async forDelete(bucket: Bucket, key: string): Promise<WorkSpec | undefined> {
    if (bucket.versioning === 'Unversioned') return undefined;
    const rule = matchRule(await this.configs.get(bucket), key, undefined);
    if (!rule || !rule.deleteMarkers) return undefined;
    return this.workFor(bucket, key, rule, 'marker', 0);
  }

  /** For a change of a version's tags, retention or legal hold. */
  async forMeta(bucket: Bucket, key: string, tags: readonly [string, string][] | undefined): Promise<WorkSpec | undefined> {
    const c = await this.configs.get(bucket);
    // The rule that replicated the version may have matched on its old tags: any rule whose
    // prefix matches carries the change (the handler checks the version was replicated).
    const rule = matchRule(c, key, tags) ?? c?.rules.find((r) => r.enabled && key.startsWith(r.prefix));
    if (!rule) return undefined;
    return this.workFor(bucket, key, rule, 'meta', 0);
  }

  private workFor(bucket: Bucket, key: string, rule: ReplicationRule, op: ReplicatePayload['op'], size: number): WorkSpec {
    return (effect) => {
      if (effect.versionId === undefined || effect.versionId === 'null') return [];
      const payload: ReplicatePayload = { b: bucket.name, k: key, v: effect.versionId, op, r: rule.id, s: size };
      return [{ kind: REPLICATE_KIND, payload, orderKey: `${bucket.id}/${key}` } satisfies NewWork];
    };
  }

  private client(remote: Remote): S3Client {
    const fingerprint = `${remote.endpoint}|${remote.region}|${remote.accessKey}|${remote.secretKey}`;
    const hit = this.clients.get(remote.name);
    if (hit && hit.key === fingerprint) return hit.client;
    hit?.client.destroy();
    const client = new S3Client({
      endpoint: remote.endpoint,
      region: remote.region,
      forcePathStyle: true,
      credentials: { accessKeyId: remote.accessKey, secretAccessKey: remote.secretKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 1,
      // Failures are the engine's to retry and record (the SDK would print each to the console).
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
    this.clients.set(remote.name, { client, key: fingerprint });
    return client;
  }

  close(): void {
    for (const { client } of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  /** The engine's handler for `replicate` items. */
  async handle(app: App, item: WorkItem & { payload: ReplicatePayload }, signal?: AbortSignal): Promise<void> {
    const p = item.payload;
    const bucket = await this.meta.getBucket(p.b);
    if (!bucket) return;
    const v = await this.meta.getObject(bucket.id, p.k, p.v);
    // Deleted since: nothing left to copy (S3 does not replicate version deletes either).
    if (!v) return;
    const config = await this.configs.get(bucket);
    const rule = config?.rules.find((r) => r.id === p.r) ?? matchRule(config, p.k, v.tags);
    if (!rule || !rule.enabled) {
      // The configuration changed since: the version stays as it is (S3 leaves it unreplicated).
      if (v.replicationStatus === 'PENDING') await this.setStatus(app, bucket, v, 'FAILED', { rule: p.r, dest: rule?.destination.bucket ?? '', reason: 'SrcBucketReplicationConfigMissing' });
      return;
    }
    if (p.op === 'meta' && (v.replicationStatus === undefined || (v.replicationStatus === 'REPLICA' && !rule.replicaModifications))) return;
    const dest = rule.destination.bucket;
    try {
      const remote = await this.remotes.forBucket(dest);
      if (!remote) throw new ReplicationFailure('DstBucketNotFound', `no remote is registered for bucket ${dest} (trove admin remote add … --buckets ${dest})`);
      // Requests in flight end when the engine stops (or the claim is lost): the item goes back.
      const raw = this.client(remote);
      const client: Sender = { send: ((cmd: Parameters<S3Client['send']>[0]) => raw.send(cmd, signal ? { abortSignal: signal } : {})) as S3Client['send'] };
      if (p.op === 'marker') {
        if (!v.deleteMarker) return;
        await client.send(withHeaders(new DeleteObjectCommand({ Bucket: dest, Key: p.k }), { [REPLICA_VERSION_HEADER]: v.versionId }));
        return;
      }
      if (v.deleteMarker) return;
      if (p.op === 'meta') {
        await this.pushMeta(client, dest, v);
        return;
      }
      if (v.replicationStatus === 'REPLICA') return;
      // A first attempt of a new version sends it at once; a retry or a resync asks first.
      await this.pushVersion(app, client, dest, bucket, v, rule, item.attempts > 1 || p.x === true);
    } catch (e) {
      if (p.op !== 'put') throw e;
      if (e instanceof ReplicationFailure && e.final) {
        // Said once, not retried for ever: nothing here can make it succeed.
        this.log.warn({ bucket: bucket.name, key: v.key, versionId: v.versionId, reason: e.reason }, `not replicated: ${e.message}`);
        if (v.replicationStatus !== 'FAILED') await this.setStatus(app, bucket, v, 'FAILED', { rule: rule.id, dest, reason: e.reason });
        return;
      }
      if (item.attempts >= FAIL_AFTER && v.replicationStatus !== 'FAILED') await this.setStatus(app, bucket, v, 'FAILED', { rule: rule.id, dest, reason: failureReason(e) });
      throw e;
    }
    if (p.op === 'put' && v.replicationStatus !== 'COMPLETED') await this.setStatus(app, bucket, v, 'COMPLETED');
  }

  /**
   * Records a version's replication status; FAILED records s3:Replication:OperationFailedReplication
   * with it (S3's replicationEventData).
   */
  private async setStatus(app: App, bucket: Bucket, v: ObjectVersion, status: ReplicationStatus, failed?: { rule: string; dest: string; reason: string }): Promise<void> {
    try {
      const events = failed
        ? await app.notify.eventWork(bucket.id, v.key, 's3:Replication:OperationFailedReplication', { versionId: v.versionId, size: v.size, etag: v.etag }, {
            replicationEventData: {
              replicationRuleId: failed.rule,
              destinationBucket: `arn:aws:s3:::${failed.dest}`,
              s3Operation: 'OBJECT_PUT',
              requestTime: new Date(v.lastModified).toISOString(),
              failureReason: failed.reason,
            },
          })
        : [];
      await this.meta.updateObject(
        bucket.id,
        v.key,
        v.versionId,
        { replicationStatus: status },
        (cur) => {
          if (cur.replicationStatus === 'REPLICA') throw new Error('a replica');
        },
        events.length ? { work: events } : {},
      );
      if (events.length) app.engine.kick(NOTIFY_KIND);
    } catch (e) {
      this.log.debug({ err: e, bucket: bucket.name, key: v.key, versionId: v.versionId }, 'replication status not recorded (version gone)');
    }
  }

  /** Copies one version (data, metadata, tags, lock) to the destination under the same version id. */
  private async pushVersion(app: App, client: Sender, dest: string, bucket: Bucket, v: ObjectVersion, rule: ReplicationRule, ask: boolean): Promise<void> {
    // An SSE-KMS version of one part: its ETag depends on its data key (the replica's differs).
    const kmsSingle = v.sse?.a === 'aws:kms' && !v.partsCount;
    // Already there (a retry after a lost answer, a resync): nothing to send. (A replica written
    // twice is harmless anyway: the destination keeps the first and answers its version id.)
    if (ask) {
      const there = await client.send(new HeadObjectCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId })).catch(() => undefined);
      if (there && (unquote(there.ETag) === v.etag || (kmsSingle && there.VersionId === v.versionId))) return;
    }
    const headers: Record<string, string> = { ...v.headers, [REPLICA_VERSION_HEADER]: v.versionId };
    let dataKey: Buffer | undefined;
    if (v.sse) {
      if (v.sse.a === 'SSE-C') {
        throw new ReplicationFailure('SrcSseCKeyNotStored', 'the version is encrypted with a customer key (SSE-C), which this server never stores: it cannot be decrypted to be sent, and a replica must open with that key', true);
      }
      if (v.sse.a === 'aws:kms' && (!rule.sseKms || rule.destination.replicaKmsKeyId === undefined)) {
        throw new ReplicationFailure('SrcSseKmsNotSelected', 'the version is encrypted with SSE-KMS and the rule does not select SseKmsEncryptedObjects', true);
      }
      try {
        dataKey = await openDataKey(app.kms, v.sse, undefined);
      } catch (e) {
        throw new ReplicationFailure('SrcKmsKeyInvalidState', `the version's KMS key cannot decrypt it: ${e instanceof Error ? e.message : String(e)}`);
      }
      headers['x-amz-server-side-encryption'] = v.sse.a;
      if (v.sse.a === 'aws:kms') headers['x-amz-server-side-encryption-aws-kms-key-id'] = rule.destination.replicaKmsKeyId!;
      if (v.sse.b) headers['x-amz-server-side-encryption-bucket-key-enabled'] = 'true';
    }
    // A version in an archive tier is read through from the tier, restored or not: replication is
    // not a client read (a tier that holds it online answers; one that archives it refuses, and
    // the item is retried).
    const src: ObjectVersion = v.tier && !readable(v.tier) ? { ...v, tier: { ...v.tier, archive: false } } : v;
    for (const [k, val] of Object.entries(v.userMeta)) headers['x-amz-meta-' + k] = encodeHeaderText(val);
    const storageClass = rule.destination.storageClass ?? v.storageClass;
    if (storageClass && storageClass !== 'STANDARD') headers['x-amz-storage-class'] = storageClass;
    if (v.tags && v.tags.length) headers['x-amz-tagging'] = v.tags.map(([k, val]) => `${encodeURIComponent(k)}=${encodeURIComponent(val)}`).join('&');
    if (v.retention) {
      headers['x-amz-object-lock-mode'] = v.retention.mode;
      headers['x-amz-object-lock-retain-until-date'] = new Date(v.retention.until).toISOString();
    }
    if (v.legalHold !== undefined) headers['x-amz-object-lock-legal-hold'] = v.legalHold ? 'ON' : 'OFF';
    let etag: string | undefined;
    // The destination encrypted with SSE-KMS (asked to, or by its bucket's default): its ETag is
    // not an MD5 then, and every byte was checked against a Content-MD5 instead (when all were sent with one).
    let destKms = false;
    let md5Sent = true;
    if (!v.partsCount) {
      let md5 = /^[0-9a-f]{32}$/.test(v.etag) && v.sse?.a !== 'aws:kms' ? Buffer.from(v.etag, 'hex').toString('base64') : undefined;
      if (kmsSingle) md5 = await this.kmsPlaintextMd5(app, bucket, src, dataKey!);
      const body = await objectBody(app, bucket.name, src, 0, v.size - 1, dataKey);
      try {
        const r = await client.send(
          withHeaders(new PutObjectCommand({ Bucket: dest, Key: v.key, Body: v.size === 0 ? Buffer.alloc(0) : Readable.from(bodyChunks(body)), ContentLength: v.size, ...(md5 ? { ContentMD5: md5 } : {}) }), headers),
        );
        etag = unquote(r.ETag);
        destKms = r.ServerSideEncryption === 'aws:kms';
        md5Sent = md5 !== undefined;
      } finally {
        await closeBody(body);
      }
    } else {
      const parts = await this.meta.getObjectParts(v.rowId, 1, v.partsCount);
      const { [REPLICA_VERSION_HEADER]: vid, ...createHeaders } = headers;
      const created = await client.send(withHeaders(new CreateMultipartUploadCommand({ Bucket: dest, Key: v.key }), createHeaders));
      const uploadId = created.UploadId!;
      try {
        const done: { PartNumber: number; ETag: string }[] = [];
        for (const part of parts) {
          const body = await objectBody(app, bucket.name, src, part.offset, part.offset + part.size - 1, dataKey);
          try {
            const md5 = /^[0-9a-f]{32}$/.test(part.etag) ? Buffer.from(part.etag, 'hex').toString('base64') : undefined;
            if (!md5) md5Sent = false;
            const r = await client.send(
              new UploadPartCommand({ Bucket: dest, Key: v.key, UploadId: uploadId, PartNumber: part.partNumber, Body: part.size === 0 ? Buffer.alloc(0) : Readable.from(bodyChunks(body)), ContentLength: part.size, ...(md5 ? { ContentMD5: md5 } : {}) }),
            );
            done.push({ PartNumber: part.partNumber, ETag: r.ETag! });
          } finally {
            await closeBody(body);
          }
        }
        const r = await client.send(withHeaders(new CompleteMultipartUploadCommand({ Bucket: dest, Key: v.key, UploadId: uploadId, MultipartUpload: { Parts: done } }), { [REPLICA_VERSION_HEADER]: vid! }));
        etag = unquote(r.ETag);
        destKms = r.ServerSideEncryption === 'aws:kms';
      } catch (e) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: dest, Key: v.key, UploadId: uploadId })).catch(() => undefined);
        throw e;
      }
    }
    // (An SSE-KMS replica may have an ETag of its own; the destination checked the Content-MD5s.)
    if (etag !== v.etag && !(destKms && md5Sent)) throw new Error(`destination answered ETag ${etag} for ${v.key} (${v.versionId}), the source has ${v.etag}`);
  }

  /**
   * The plaintext MD5 (base64) of an SSE-KMS single-part version, read and decrypted once before
   * it is sent, checked against its ETag (the MD5 keyed with its data key).
   */
  private async kmsPlaintextMd5(app: App, bucket: Bucket, v: ObjectVersion, dataKey: Buffer): Promise<string> {
    const h = createHash('md5');
    const body = await objectBody(app, bucket.name, v, 0, v.size - 1, dataKey);
    try {
      if (Buffer.isBuffer(body)) h.update(body);
      else for await (const c of pooledChunks(body)) h.update(c);
    } finally {
      await closeBody(body);
    }
    const md5 = h.digest();
    if (encryptedEtag(v.sse!, md5.toString('hex'), dataKey) !== v.etag) throw new Error(`the plaintext of ${v.key} (${v.versionId}) does not match its ETag`);
    return md5.toString('base64');
  }

  /** Re-sends a version's tags, retention and legal hold (the version must be there already). */
  private async pushMeta(client: Sender, dest: string, v: ObjectVersion): Promise<void> {
    const mark = { [REPLICA_HEADER]: 'true' };
    if (v.tags && v.tags.length) {
      await client.send(withHeaders(new PutObjectTaggingCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId, Tagging: { TagSet: v.tags.map(([Key, Value]) => ({ Key, Value })) } }), mark));
    } else {
      await client.send(withHeaders(new DeleteObjectTaggingCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId }), mark));
    }
    if (v.retention) {
      await client.send(
        withHeaders(new PutObjectRetentionCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId, Retention: { Mode: v.retention.mode, RetainUntilDate: new Date(v.retention.until) } }), mark),
      );
    }
    if (v.legalHold !== undefined) {
      await client.send(withHeaders(new PutObjectLegalHoldCommand({ Bucket: dest, Key: v.key, VersionId: v.versionId, LegalHold: { Status: v.legalHold ? 'ON' : 'OFF' } }), mark));
    }
  }

  /** Registers the handler with the engine. */
  register(app: App): void {
    app.engine.register<ReplicatePayload>(REPLICATE_KIND, (item, ctx) => this.handle(app, item, ctx.signal), { concurrency: app.config.replicationConcurrency, retryBaseMs: 1000, retryMaxMs: 60_000 });
  }
}

type Sender = Pick<S3Client, 'send'>;

function unquote(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, '');
}

/** Adds raw headers to a command's request (before signing, so they are signed). */
function withHeaders<C extends { middlewareStack: { add: (...a: never[]) => unknown } }>(cmd: C, headers: Record<string, string>): C {
  (cmd.middlewareStack as unknown as { add: (mw: unknown, opts: unknown) => void }).add(
    (next: (args: { request: { headers: Record<string, string> } }) => Promise<unknown>) => async (args: { request: { headers: Record<string, string> } }) => {
      for (const [k, val] of Object.entries(headers)) args.request.headers[k] = val;
      return next(args);
    },
    { step: 'build', name: 'troveReplicaHeaders' },
  );
  return cmd;
}

/** Per bucket and rule: items queued, bytes to copy, failing items and the oldest item's age. */
export interface RuleBacklog {
  bucket: string;
  rule: string;
  pending: number;
  bytes: number;
  failing: number;
  lagMs: number;
}

export async function replicationBacklog(meta: MetaStore, now = Date.now()): Promise<RuleBacklog[]> {
  const by = new Map<string, RuleBacklog>();
  let after = 0;
  for (;;) {
    const page = await meta.listWork(REPLICATE_KIND, after, 1000);
    for (const w of page) {
      const p = w.payload as ReplicatePayload;
      const k = `${p.b}\u0000${p.r}`;
      let b = by.get(k);
      if (!b) by.set(k, (b = { bucket: p.b, rule: p.r, pending: 0, bytes: 0, failing: 0, lagMs: 0 }));
      b.pending++;
      b.bytes += p.s ?? 0;
      if (w.lastError !== undefined) b.failing++;
      b.lagMs = Math.max(b.lagMs, now - w.createdAt);
    }
    if (page.length < 1000) break;
    after = page[page.length - 1]!.id;
  }
  return [...by.values()].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : a.rule < b.rule ? -1 : 1));
}

/**
 * Records a `put` item for every version of the bucket a rule replicates (and a `marker` item for
 * every delete marker, where the rule replicates them): copies what existed before the
 * configuration, or what a destination lost. Versions already there are skipped by the handler.
 */
export async function resync(meta: MetaStore, bucket: Bucket, config: ReplicationConfig): Promise<number> {
  let n = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await meta.listVersions(bucket.id, { prefix: '', limit: 500, ...(keyMarker !== undefined ? { keyMarker, versionIdMarker: versionIdMarker! } : {}) });
    const items: NewWork[] = [];
    for (const o of page) {
      if (o.versionId === 'null') continue;
      const v = o.deleteMarker ? undefined : await meta.getObject(bucket.id, o.key, o.versionId);
      if (v?.replicationStatus === 'REPLICA') continue;
      const rule = matchRule(config, o.key, v?.tags);
      if (!rule || (o.deleteMarker && !rule.deleteMarkers)) continue;
      if (v?.sse?.a === 'aws:kms' && !rule.sseKms) continue;
      const payload: ReplicatePayload = { b: bucket.name, k: o.key, v: o.versionId, op: o.deleteMarker ? 'marker' : 'put', r: rule.id, s: o.size, x: true };
      items.push({ kind: REPLICATE_KIND, payload, orderKey: `${bucket.id}/${o.key}` });
    }
    if (items.length) await meta.enqueueWork(items);
    n += items.length;
    if (page.length < 500) return n;
    keyMarker = page[page.length - 1]!.key;
    versionIdMarker = page[page.length - 1]!.versionId;
  }
}
