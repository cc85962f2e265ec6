// What a change of a version's tier state does to its blob references (MetaStore.updateTier), the
// same in every store.

import type { NewWork, ObjectVersion, TierChange, TierState } from '../types.js';

/** The work item that deletes a gone version's remote copy (tiering/work.ts runs it). */
export function tierDeleteWork(tier: TierState): NewWork {
  return { kind: 'tier.delete', payload: { tier: tier.tier, key: tier.key } };
}

export interface TierEffects {
  /** The version moves to a tier: its inline bytes go, its local blob and its parts' blobs are released. */
  releaseLocal: boolean;
  /** A restored copy's blob, written for this change: its first reference. */
  addBlob?: string;
  /** A restored copy's blob no longer named: released. */
  releaseBlob?: string;
}

export function tierEffects(v: ObjectVersion, next: TierChange): TierEffects {
  if (!next.tier) return { releaseLocal: false };
  const e: TierEffects = { releaseLocal: v.tier === undefined };
  const before = v.tier?.restore?.blob;
  const after = next.tier.restore?.blob;
  if (after && after !== before) e.addBlob = after;
  if (before && before !== after) e.releaseBlob = before;
  return e;
}
