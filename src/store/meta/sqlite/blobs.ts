// Reference counts of blob files: a row per blob, garbage at zero references until the garbage
// collector has deleted the file and forgets it.

import { StoreError } from '../../errors.js';
import { OBJECTS_ONLY, type Ctx } from './context.js';

/**
 * Takes a reference on a blob: a fresh one (just written for this request) gets its first
 * reference; a shared one must still be referenced, else its source was deleted meanwhile (and
 * its file may be gone), and the write fails.
 */
export function addRef(c: Ctx, blobId: string, shared: boolean): void {
  if (!shared) {
    c.stmt.newBlob.run(blobId);
    return;
  }
  if (c.stmt.shareBlob.run(blobId).changes === 0) throw new StoreError('SourceGone');
}

export function release(c: Ctx, blobId: string): void {
  c.stmt.release.run(Date.now(), blobId);
  c.commit.garbageReleased = true;
}

/**
 * Goes through the write queue: it answers only after a WAL sync that covers every release it
 * saw, so a blob is never deleted while the write that released it could still be rolled back
 * by a crash.
 */
export function takeGarbage(c: Ctx, limit: number, releasedBefore = Number.MAX_SAFE_INTEGER): Promise<string[]> {
  return c.commit.write(() => (c.stmt.garbage.all(releasedBefore, limit) as { id: string }[]).map((r) => r.id), OBJECTS_ONLY);
}

export async function forgetBlobs(c: Ctx, blobIds: string[]): Promise<void> {
  if (blobIds.length === 0) return;
  await c.commit.write(() => {
    for (const id of blobIds) c.stmt.forgetBlob.run(id);
  }, OBJECTS_ONLY);
}

export async function hasBlob(c: Ctx, blobId: string): Promise<boolean> {
  if (c.commit.unsynced) await c.commit.unsynced;
  return c.stmt.hasBlob.get(blobId) !== undefined;
}
