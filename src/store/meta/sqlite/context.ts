// What the query modules share: the connection, its prepared statements, the group commit and
// the caches of one SqliteMetaStore.

import type Database from 'better-sqlite3';
import type { BucketCache, ForeignWrites, LatestCache } from './cache.js';
import type { GroupCommit } from './commit.js';
import type { Statements } from './statements.js';
import type { ObjectVersion } from '../types.js';

export interface Ctx {
  readonly db: Database.Database;
  readonly stmt: Statements;
  /** Writes go through `commit.write`; reads first wait for `commit.unsynced` (see GroupCommit). */
  readonly commit: GroupCommit;
  readonly buckets: BucketCache;
  readonly latest: LatestCache;
  /** Checked before every cached read: drops the caches when another process has committed. */
  readonly foreign: ForeignWrites;
  /**
   * Versions removed by the write running now, collected only while `removed` is set (for work
   * that depends on what a write did: WriteOptions.work as a function). Transactions run one at a
   * time on the one connection, so one slot serves them all.
   */
  effects: { removed: ObjectVersion[] | undefined };
  /** A statement built at run time (listing filters), prepared once. */
  cached(sql: string): Database.Statement;
}

/** GroupCommit.write's option for writes of objects, versions, uploads, blobs and leases only. */
export const OBJECTS_ONLY = { objectsOnly: true } as const;
