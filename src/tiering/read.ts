// Reading a tiered version: from its restored local copy when there is one, else read through
// from the remote tier (non-archive tiers only: an archive tier answers InvalidObjectState until
// the version is restored). Ranges are mapped onto the stored bytes — for an encrypted object the
// sealed packages of each part, opened here with the keys of the blobs they were sealed in — and
// streamed, one segment opened at a time.

import type { App } from '../app.js';
import type { PooledBody } from '../common/body.js';
import { S3Error } from '../s3/errors.js';
import { blobKey, openingBody, sealedRange, packageSizeOf, sealedSize } from '../sse/packages.js';
import type { ObjectVersion, TierState } from '../store/meta/types.js';
import { RemoteVerifyError } from './remote.js';

/** The version's bytes can be read now: not archived, or restored. */
export function readable(t: TierState): boolean {
  return !t.archive || restored(t);
}

export function restored(t: TierState): boolean {
  return t.restore !== undefined && !t.restore.ongoing && t.restore.blob !== undefined;
}

export function invalidObjectState(v: ObjectVersion): S3Error {
  return new S3Error('InvalidObjectState', "The operation is not valid for the object's storage class", { StorageClass: v.storageClass });
}

/** x-amz-restore of a version, when it has been asked to be restored. */
export function restoreHeader(t: TierState | undefined): string | undefined {
  if (!t?.archive || !t.restore) return undefined;
  if (t.restore.ongoing) return 'ongoing-request="true"';
  return `ongoing-request="false", expiry-date="${new Date(t.restore.expiry ?? 0).toUTCString()}"`;
}

/** Opens bytes [from, to] of the stored copy (restored local blob, or the remote one). */
type Opener = (from: number, to: number) => Promise<PooledBody>;

async function opener(app: App, v: ObjectVersion): Promise<Opener> {
  const t = v.tier!;
  if (restored(t)) {
    const blob = t.restore!.blob!;
    return (from, to) => app.blobs.openRange(blob, t.size, from, to);
  }
  if (t.archive) throw invalidObjectState(v);
  const remote = await app.tiers.remote(t.tier);
  return async (from, to) => {
    try {
      return await remote.openRange(t.key, from, to);
    } catch (e) {
      // The tier is down or refuses: a transient answer clients retry (the data is not lost).
      app.log.warn({ err: e, tier: t.tier, remoteKey: t.key, bucketId: v.bucketId, key: v.key }, 'tier read failed');
      if (e instanceof RemoteVerifyError) throw new S3Error('InternalError', "The object's data on its tier does not match what was stored.");
      throw new S3Error('ServiceUnavailable', "The tier holding this object's data cannot be read now; try again later.");
    }
  };
}

/** Plaintext bytes [start, end] of a tiered version (see objectBody). */
export async function tieredBody(app: App, v: ObjectVersion, start: number, end: number, dataKey: Buffer | undefined): Promise<PooledBody> {
  const open = await opener(app, v);
  if (!v.sse) return open(start, end);
  if (!dataKey) throw new Error(`object ${v.key} is encrypted: its data key is needed`);
  const t = v.tier!;
  const p = packageSizeOf(v.sse);
  // The stored copy is the sealed bytes of each blob, one after the other.
  const segments = v.partsCount
    ? (await app.meta.getObjectParts(v.rowId, 1, v.partsCount)).map((p) => ({ offset: p.offset, size: p.size, keyId: p.blobId }))
    : [{ offset: 0, size: v.size, keyId: t.sealedAs! }];
  const pieces: (() => Promise<PooledBody>)[] = [];
  let stored = 0;
  for (const s of segments) {
    const at = stored;
    stored += sealedSize(s.size, p);
    if (s.size === 0 || s.offset > end || s.offset + s.size - 1 < start) continue;
    const s0 = Math.max(start, s.offset) - s.offset;
    const s1 = Math.min(end, s.offset + s.size - 1) - s.offset;
    const r = sealedRange(s0, s1, s.size, p);
    pieces.push(async () => openingBody(blobKey(dataKey, s.keyId), await open(at + r.from, at + r.to), s0, s1, s.size, s.keyId, p));
  }
  // The first is opened now: a remote that cannot answer fails the request before its headers.
  const first = pieces.length ? await pieces[0]!() : undefined;
  return lazyConcat(pieces.slice(1), first);
}

/** Bodies opened one after the other, each when the previous one ends. */
function lazyConcat(pieces: (() => Promise<PooledBody>)[], first: PooledBody | undefined): PooledBody {
  let i = 0;
  let current: PooledBody | undefined = first;
  let closed = false;
  return {
    async read(buf: Buffer): Promise<number> {
      while (!closed) {
        if (!current) {
          if (i >= pieces.length) return 0;
          current = await pieces[i++]!();
        }
        const n = await current.read(buf);
        if (n > 0) return n;
        await current.close();
        current = undefined;
      }
      return 0;
    },
    async close(): Promise<void> {
      closed = true;
      await current?.close();
      current = undefined;
    },
  };
}
