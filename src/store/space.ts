// Free space on the data directory's filesystem.

/** ENOSPC or EDQUOT from the filesystem, SQLITE_FULL from SQLite: the write needed space there is none of. */
export function isOutOfSpace(e: unknown): boolean {
  if (typeof e !== 'object' || e === null || !('code' in e)) return false;
  return e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'SQLITE_FULL';
}
