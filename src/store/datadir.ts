// The data directory holds every secret key and every object: no other local user may read it,
// whatever the umask. New directories are created 0700 and files 0600 (each store passes these
// modes); a data dir made by an older Trove, or by hand, is tightened when a node opens it.
//
// Tightening walks the directories and the metadata files, not every blob file: a blob is out of
// other users' reach once its directories are 0700 (they cannot be traversed), and blobs written
// from now on are 0600 themselves.

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Creates the data directory (0700) or tightens an existing one; returns the paths it changed. */
export async function secureDataDir(dir: string, log?: Logger): Promise<string[]> {
  await fs.promises.mkdir(dir, { recursive: true, mode: DIR_MODE });
  const changed: string[] = [];
  const tighten = async (p: string, isDir: boolean): Promise<void> => {
    const st = await fs.promises.lstat(p).catch(() => undefined);
    if (!st || st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) {
      await fs.promises.chmod(p, (st.mode & 0o700) | (isDir ? DIR_MODE : 0));
      changed.push(p);
    }
  };
  // The data dir and its files, the stores' directories and files (meta/meta.db…), and their
  // sub-directories (blobs/00…ff) without listing those.
  const walk = async (d: string, depth: number): Promise<void> => {
    await tighten(d, true);
    if (depth >= 2) return;
    const entries = await fs.promises.readdir(d, { withFileTypes: true }).catch(() => [] as fs.Dirent[]);
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p, depth + 1);
      else if (e.isFile()) await tighten(p, false);
    }
  };
  await walk(dir, 0);
  if (changed.length > 0) {
    log?.warn({ dataDir: dir, tightened: changed.length, examples: changed.slice(0, 5) }, 'data directory was readable by other users: permissions tightened to 0700/0600');
  }
  return changed;
}
