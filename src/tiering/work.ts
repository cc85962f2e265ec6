// The work tiering does in the background, as handlers of the work engine's items:
//   transition      move a version's bytes to the tier its new storage class names
//   restore         copy an archived version's bytes back into a local blob (RestoreObject)
//   restore.expire  drop that local copy once its days are over
//   tier.delete     delete the remote copy of a version that is gone (recorded by the store in the
//                   transaction that removed the version)
// Each is idempotent: it looks at the version as it is now and does nothing when that has moved on.

import { createHash, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { App } from '../app.js';
import type { PooledBody } from '../common/body.js';
import { pooledChunks } from '../http/pooled.js';
import { packageSizeOf, sealedSize } from '../sse/packages.js';
import type { ObjectVersion, TierState } from '../store/meta/types.js';
import { PART_SIZE, RemoteVerifyError } from './remote.js';
import type { Tier } from './tiers.js';
import { tierDeleteWork } from '../store/meta/common/tier.js';
import type { NewWork } from '../store/meta/types.js';
import { NOTIFY_KIND } from '../notify/notifier.js';

/** Wakes delivery after a change that recorded events committed. */
function notified(app: App, events: NewWork[]): void {
  if (events.length) app.engine.kick(NOTIFY_KIND);
}

/**
 * s3:LifecycleTransition for a version moved to `storageClass` (recorded with the change): S3's
 * record of eventVersion 2.3, with lifecycleEventData naming the destination class.
 */
function transitionEvents(app: App, v: ObjectVersion, storageClass: string): Promise<NewWork[]> {
  return app.notify.eventWork(v.bucketId, v.key, 's3:LifecycleTransition', { versionId: v.versionId, size: v.size, etag: v.etag }, { lifecycleEventData: { transitionEventData: { destinationStorageClass: storageClass } } });
}

export interface TransitionPayload {
  bucketId: number;
  key: string;
  versionId: string;
  storageClass: string;
  etag: string;
}

export interface RestorePayload {
  bucketId: number;
  key: string;
  versionId: string;
  rowId: number;
}

export interface TierDeletePayload {
  tier: string;
  key: string;
  /** Only if this version does not point at the copy (the clean-up of an upload a crash cut short). */
  unless?: { bucketId: number; key: string; versionId: string };
}

/** How long after a transition starts its copy is deleted unless a version points at it by then. */
const ORPHAN_CHECK_MS = 6 * 3600_000;

/** When a restored copy of `days` days expires (a day is --lifecycle-day-seconds long). */
export function restoreExpiry(app: App, days: number): number {
  return Date.now() + days * app.config.lifecycleDayMs;
}

/** The stored bytes of a version, as they are on disk (sealed ones for an encrypted object). */
async function* storedBytes(app: App, v: ObjectVersion): AsyncGenerator<Buffer> {
  if (v.inline) {
    if (v.inlineCrc !== undefined && crc32(v.inline) !== v.inlineCrc) throw new Error(`inline data of ${v.key} does not match its CRC`);
    if (v.inline.length) yield v.inline;
    return;
  }
  const stored = (n: number) => (v.sse ? sealedSize(n, packageSizeOf(v.sse)) : n);
  const blobs = v.blobId ? [{ id: v.blobId, size: v.size }] : v.partsCount ? (await app.meta.getObjectParts(v.rowId, 1, v.partsCount)).map((p) => ({ id: p.blobId, size: p.size })) : [];
  for (const b of blobs) {
    if (b.size === 0) continue;
    const n = stored(b.size);
    const body = await app.blobs.openRange(b.id, n, 0, n - 1);
    try {
      yield* copyChunks(body);
    } finally {
      await body.close();
    }
  }
}

/** A body's chunks, copied (the reader reuses its buffers). */
async function* copyChunks(body: PooledBody): AsyncGenerator<Buffer> {
  for await (const c of pooledChunks(body)) yield Buffer.from(c);
}

function storedSize(v: ObjectVersion, partSizes: number[]): number {
  if (v.inline) return v.inline.length;
  return v.sse ? partSizes.reduce((a, n) => a + sealedSize(n, packageSizeOf(v.sse!)), 0) : v.size;
}

/**
 * Moves a version's bytes to the tier its storage class names: upload, verify, then — only if the
 * version is still the one read — point it at the remote copy and drop the local data (inline
 * bytes, or blobs released), in one conditional update. A class no tier names only changes the
 * version's storage class.
 */
export async function transition(app: App, p: TransitionPayload, signal?: AbortSignal): Promise<void> {
  const v = await app.meta.getObject(p.bucketId, p.key, p.versionId);
  if (!v || v.deleteMarker || v.etag !== p.etag) return;
  const tier = await app.tiers.registry.forClass(p.storageClass);
  if (v.tier) return v.storageClass === p.storageClass ? undefined : moveBetweenTiers(app, p, v, tier, signal);
  // Written with this class (a PUT may name a tier's class): moved if a tier has it, else done.
  if (v.storageClass === p.storageClass && !tier) return;
  const events = await transitionEvents(app, v, p.storageClass);
  if (!tier) {
    const after = await app.meta.updateTier(p.bucketId, p.key, p.versionId, v.rowId, (cur) => (cur.etag === p.etag && !cur.tier ? { storageClass: p.storageClass, work: events } : undefined));
    if (after?.storageClass === p.storageClass) notified(app, events);
    return;
  }
  const remote = await app.tiers.remote(tier.name);
  const parts = v.partsCount ? await app.meta.getObjectParts(v.rowId, 1, v.partsCount) : [];
  const size = storedSize(v, v.partsCount ? parts.map((x) => x.size) : [v.size]);
  const key = remote.remoteKey(String(p.bucketId), randomUUID());
  // Recorded first: should this process die between the upload and the update below, the copy is
  // deleted later instead of left on the tier (a no-op once the version points at it).
  await app.meta.enqueueWork([{ kind: 'tier.delete', payload: { tier: tier.name, key, unless: { bucketId: p.bucketId, key: p.key, versionId: p.versionId } } satisfies TierDeletePayload, notBefore: Date.now() + ORPHAN_CHECK_MS }]);
  const up = await remote.upload(key, storedBytes(app, v), size, signal);
  const state: TierState = { tier: tier.name, key, size: up.size, sha256: up.sha256, archive: tier.archive };
  // An encrypted single blob's (or inline object's) keys derive from its blob id (the descriptor's n).
  if (v.sse && !v.partsCount) state.sealedAs = v.blobId ?? v.sse.n;
  const after = await app.meta.updateTier(p.bucketId, p.key, p.versionId, v.rowId, (cur) =>
    cur.etag === p.etag && !cur.tier ? { tier: state, storageClass: p.storageClass, work: events } : undefined,
  );
  if (after?.tier?.key !== key) {
    // The version changed or went while we uploaded: the copy is nobody's.
    await remote.delete(key).catch((e: unknown) => app.log.warn({ err: e, tier: tier.name, key }, 'could not delete an unused remote copy'));
    return;
  }
  notified(app, events);
  app.log.info({ bucketId: p.bucketId, key: p.key, versionId: p.versionId, tier: tier.name, remoteKey: key, size }, 'transitioned to tier');
}

/**
 * A tiered version whose class changes again: to another class of the same tier, a new label; to
 * another tier, its remote bytes are copied there (verified as any upload), then the version
 * points at the new copy and the old one is deleted by a `tier.delete` item recorded with that
 * change. Left alone: a class no tier names (the data would be where its class does not say; so
 * is a lifecycle Transition back to STANDARD, which only relabels versions stored here), and a
 * version restored or being restored.
 */
async function moveBetweenTiers(app: App, p: TransitionPayload, v: ObjectVersion, tier: Tier | undefined, signal?: AbortSignal): Promise<void> {
  const from = v.tier!;
  if (!tier || from.restore) return;
  const unchanged = (cur: ObjectVersion) => cur.etag === p.etag && cur.tier?.key === from.key && !cur.tier.restore;
  const events = await transitionEvents(app, v, p.storageClass);
  if (tier.name === from.tier) {
    const after = await app.meta.updateTier(p.bucketId, p.key, p.versionId, v.rowId, (cur) => (unchanged(cur) ? { storageClass: p.storageClass, work: events } : undefined));
    if (after?.storageClass === p.storageClass) notified(app, events);
    return;
  }
  const source = await app.tiers.remote(from.tier);
  const remote = await app.tiers.remote(tier.name);
  const key = remote.remoteKey(String(p.bucketId), randomUUID());
  await app.meta.enqueueWork([{ kind: 'tier.delete', payload: { tier: tier.name, key, unless: { bucketId: p.bucketId, key: p.key, versionId: p.versionId } } satisfies TierDeletePayload, notBefore: Date.now() + ORPHAN_CHECK_MS }]);
  async function* bytes(): AsyncGenerator<Buffer> {
    if (from.size === 0) return;
    const body = await source.openRange(from.key, 0, from.size - 1);
    try {
      yield* copyChunks(body);
    } finally {
      await body.close();
    }
  }
  const up = await remote.upload(key, bytes(), from.size, signal);
  // The same bytes in the same parts: the same checksum, or the source is not what was stored.
  if (up.sha256 !== from.sha256) {
    await remote.delete(key).catch(() => undefined);
    throw new RemoteVerifyError(`remote copy ${from.key} on ${from.tier} does not match the checksum it had when it was made`);
  }
  const state: TierState = { ...from, tier: tier.name, key, sha256: up.sha256, archive: tier.archive };
  const after = await app.meta.updateTier(p.bucketId, p.key, p.versionId, v.rowId, (cur) =>
    unchanged(cur) ? { tier: state, storageClass: p.storageClass, work: [tierDeleteWork(from), ...events] } : undefined,
  );
  if (after?.tier?.key !== key) {
    await remote.delete(key).catch((e: unknown) => app.log.warn({ err: e, tier: tier.name, key }, 'could not delete an unused remote copy'));
    return;
  }
  notified(app, events);
  app.log.info({ bucketId: p.bucketId, key: p.key, versionId: p.versionId, from: from.tier, tier: tier.name, remoteKey: key }, 'moved to another tier');
}

/** SHA-256 of bytes as remote.upload computes it: whole, or over PART_SIZE parts ("…-N"). */
class StoredDigest {
  private part = createHash('sha256');
  private inPart = 0;
  private readonly digests: Buffer[] = [];
  private total = 0;
  update(chunk: Buffer): void {
    this.total += chunk.length;
    while (chunk.length) {
      const n = Math.min(chunk.length, PART_SIZE - this.inPart);
      this.part.update(chunk.subarray(0, n));
      this.inPart += n;
      chunk = chunk.subarray(n);
      if (this.inPart === PART_SIZE) {
        this.digests.push(this.part.digest());
        this.part = createHash('sha256');
        this.inPart = 0;
      }
    }
  }
  value(): string {
    if (this.total <= PART_SIZE) return (this.digests[0] ?? this.part.digest()).toString('base64');
    if (this.inPart > 0) this.digests.push(this.part.digest());
    return `${createHash('sha256').update(Buffer.concat(this.digests)).digest('base64')}-${this.digests.length}`;
  }
}

/**
 * Copies an archived version's remote bytes into a new local blob, checks them against the
 * checksum verified at transition, and records the restored copy with its expiry.
 */
export async function restore(app: App, p: RestorePayload): Promise<{ expiry: number } | undefined> {
  const v = await app.meta.getObject(p.bucketId, p.key, p.versionId);
  if (!v || v.rowId !== p.rowId || !v.tier?.restore?.ongoing) return undefined;
  const t = v.tier;
  const remote = await app.tiers.remote(t.tier);
  const writer = await app.blobs.create();
  let committed = false;
  try {
    const digest = new StoredDigest();
    if (t.size > 0) {
      const body = await remote.openRange(t.key, 0, t.size - 1);
      try {
        for await (const c of pooledChunks(body)) {
          digest.update(c);
          await writer.write(Buffer.from(c));
        }
      } finally {
        await body.close();
      }
    }
    if (digest.value() !== t.sha256) throw new RemoteVerifyError(`remote copy ${t.key} does not match the checksum it had when it was made`);
    await writer.commit();
    committed = true;
    const expiry = restoreExpiry(app, t.restore!.days);
    // s3:ObjectRestore:Completed, with S3's glacierEventData (when the copy expires, the class it was restored from).
    const events = await app.notify.eventWork(p.bucketId, p.key, 's3:ObjectRestore:Completed', { versionId: v.versionId, size: v.size, etag: v.etag }, {
      glacierEventData: { restoreEventData: { lifecycleRestorationExpiryTime: new Date(expiry).toISOString(), lifecycleRestoreStorageClass: v.storageClass } },
    });
    // The restored copy, the work item that drops it when its days are over and the events, together.
    const after = await app.meta.updateTier(p.bucketId, p.key, p.versionId, p.rowId, (cur) =>
      cur.tier?.restore?.ongoing
        ? { tier: { ...cur.tier, restore: { ongoing: false, days: cur.tier.restore.days, expiry, blob: writer.id } }, work: [{ kind: 'restore.expire', payload: p, notBefore: expiry }, ...events] }
        : undefined,
    );
    if (after?.tier?.restore?.blob !== writer.id) {
      await app.blobs.delete(writer.id).catch(() => undefined);
      return undefined;
    }
    notified(app, events);
    app.log.info({ bucketId: p.bucketId, key: p.key, versionId: p.versionId, tier: t.tier, expiry: new Date(expiry).toISOString() }, 'restored from tier');
    return { expiry };
  } catch (e) {
    if (!committed) await writer.abort().catch(() => undefined);
    else await app.blobs.delete(writer.id).catch(() => undefined);
    throw e;
  }
}

/**
 * Drops a restored copy whose days are over (answers when they will be, while they are not: a
 * repeated RestoreObject moved them, and recorded its own item for then). The remote copy stays:
 * the version is archived again.
 */
export async function expireRestore(app: App, p: RestorePayload): Promise<{ retryAt?: number }> {
  const v = await app.meta.getObject(p.bucketId, p.key, p.versionId);
  const r = v?.tier?.restore;
  if (!v || v.rowId !== p.rowId || !r || r.ongoing) return {};
  if (r.expiry !== undefined && r.expiry > Date.now()) return { retryAt: r.expiry };
  // s3:ObjectRestore:Delete: the restored copy expired (eventVersion 2.3), with the change.
  const events = await app.notify.eventWork(p.bucketId, p.key, 's3:ObjectRestore:Delete', { versionId: v.versionId, size: v.size, etag: v.etag });
  let expired = false;
  await app.meta.updateTier(p.bucketId, p.key, p.versionId, p.rowId, (cur) => {
    const cr = cur.tier?.restore;
    if (!cur.tier || !cr || cr.ongoing || (cr.expiry !== undefined && cr.expiry > Date.now())) return undefined;
    const { restore: _gone, ...rest } = cur.tier;
    expired = true;
    return { tier: rest, work: events };
  });
  if (expired) notified(app, events);
  return {};
}

/** Deletes the remote copy of a version that is gone (or of none: see `unless`). */
export async function deleteRemote(app: App, p: TierDeletePayload): Promise<void> {
  if (p.unless) {
    const v = await app.meta.getObject(p.unless.bucketId, p.unless.key, p.unless.versionId);
    if (v?.tier?.tier === p.tier && v.tier.key === p.key) return;
  }
  const remote = await app.tiers.remote(p.tier);
  await remote.delete(p.key);
}
