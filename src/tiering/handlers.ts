// Tiering's handlers on the work engine (see work.ts for what each does). Registered by the
// composition root before the engine starts.

import type { App } from '../app.js';
import { deleteRemote, expireRestore, restore, transition, type RestorePayload, type TierDeletePayload, type TransitionPayload } from './work.js';

export function registerTiering(app: App): void {
  // Uploads buffer a part (16 MiB) each: two at a time per process.
  // A long upload stops when the engine does (or loses the claim): the item is due again at once.
  app.engine.register<TransitionPayload>('transition', (item, ctx) => transition(app, item.payload, ctx.signal), { concurrency: 2 });
  app.engine.register<RestorePayload>('restore', async (item) => {
    await restore(app, item.payload);
  }, { concurrency: 2 });
  // Every change of an expiry records its own item (at the new time): one that finds the expiry
  // moved later has nothing to do.
  app.engine.register<RestorePayload>('restore.expire', async (item) => {
    await expireRestore(app, item.payload);
  });
  app.engine.register<TierDeletePayload>('tier.delete', (item) => deleteRemote(app, item.payload), { concurrency: 4 });
}
