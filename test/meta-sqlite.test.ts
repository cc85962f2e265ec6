// The MetaStore conformance suite against the embedded SQLite store (fsync on, as in production).

import fs from 'node:fs';
import { SqliteMetaStore } from '../src/store/meta/sqlite/index.js';
import { tempDir } from './helpers.js';
import { describeMetaStore } from './meta/conformance.js';

describeMetaStore('SQLite', async () => {
  const dir = await tempDir('trove-meta-');
  const store = await SqliteMetaStore.open({ dir, fsync: true });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await fs.promises.rm(dir, { recursive: true, force: true });
    },
  };
});
