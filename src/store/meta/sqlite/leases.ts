// Leases on background jobs (see MetaStore.tryLease): a row per job, taken when free, expired or
// already the taker's, in one statement inside the write queue (so durable when answered).
// "Now" is this machine's clock: every process sharing an SQLite file runs on this machine.

import { OBJECTS_ONLY, type Ctx } from './context.js';

export function tryLease(c: Ctx, name: string, holder: string, ttlMs: number): Promise<boolean> {
  return c.commit.write(() => {
    const now = Date.now();
    return c.stmt.tryLease.run(name, holder, now + ttlMs, now).changes === 1;
  }, OBJECTS_ONLY);
}

export async function releaseLease(c: Ctx, name: string, holder: string): Promise<void> {
  await c.commit.write(() => c.stmt.releaseLease.run(name, holder), OBJECTS_ONLY);
}
