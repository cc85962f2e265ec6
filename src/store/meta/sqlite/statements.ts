// Every statement the store runs more than once, prepared at open.

import type Database from 'better-sqlite3';

export function prepareStatements(db: Database.Database) {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT w'),
    releaseSavepoint: db.prepare('RELEASE w'),
    rollbackTo: db.prepare('ROLLBACK TO w'),
    getSetting: db.prepare('SELECT v FROM meta WHERE k = ?'),
    putSetting: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v'),
    initSetting: db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO NOTHING'),
    getAccessKey: db.prepare('SELECT * FROM access_keys WHERE access_key_id = ?'),
    getAccount: db.prepare('SELECT * FROM users WHERE id = ?'),
    getAccountById: db.prepare('SELECT * FROM users WHERE account_id = ?'),
    putAccount: db.prepare(
      'INSERT INTO users (id, display_name, created_at, account_id, email) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET display_name = excluded.display_name, email = excluded.email',
    ),
    putAccessKey: db.prepare(
      `INSERT INTO access_keys (access_key_id, secret, user_id, created_at, iam_user_id, status) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(access_key_id) DO UPDATE SET secret = excluded.secret, user_id = excluded.user_id, iam_user_id = excluded.iam_user_id, status = excluded.status`,
    ),
    getBucket: db.prepare('SELECT * FROM buckets WHERE name = ?'),
    getBucketById: db.prepare('SELECT * FROM buckets WHERE id = ?'),
    insertBucket: db.prepare('INSERT INTO buckets (name, owner, created_at, region, versioning, object_lock) VALUES (?, ?, ?, ?, ?, ?)'),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE id = ?'),
    deleteBucketConfigs: db.prepare('DELETE FROM bucket_configs WHERE bucket_id = ?'),
    deleteBucketCompletions: db.prepare('DELETE FROM completed_uploads WHERE bucket_id = ?'),
    anyObject: db.prepare('SELECT 1 FROM objects WHERE bucket_id = ? LIMIT 1'),
    uploadsOf: db.prepare('SELECT upload_id FROM uploads WHERE bucket_id = ?'),
    setVersioning: db.prepare('UPDATE buckets SET versioning = ? WHERE id = ?'),
    enableObjectLock: db.prepare('UPDATE buckets SET object_lock = 1 WHERE id = ?'),
    getConfig: db.prepare('SELECT value FROM bucket_configs WHERE bucket_id = ? AND kind = ?'),
    putConfig: db.prepare('INSERT INTO bucket_configs (bucket_id, kind, value) VALUES (?, ?, ?) ON CONFLICT(bucket_id, kind) DO UPDATE SET value = excluded.value'),
    deleteConfig: db.prepare('DELETE FROM bucket_configs WHERE bucket_id = ? AND kind = ?'),
    // The newest version is the latest one.
    latest: db.prepare('SELECT * FROM objects WHERE bucket_id = ? AND key = ? ORDER BY vid DESC LIMIT 1'),
    versionById: db.prepare('SELECT * FROM objects WHERE bucket_id = ? AND key = ? AND vid = ? AND is_null = 0'),
    nullVersion: db.prepare('SELECT * FROM objects WHERE bucket_id = ? AND key = ? AND is_null = 1 LIMIT 1'),
    setLatest: db.prepare('UPDATE objects SET is_latest = ? WHERE id = ?'),
    insertObject: db.prepare(`INSERT INTO objects (bucket_id, key, vid, is_null, is_latest, delete_marker, size, etag, last_modified, owner,
      storage_class, checksum_alg, checksum_type, meta, inline, inline_crc, blob_id, parts_count) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    deleteObjectRow: db.prepare('DELETE FROM objects WHERE id = ?'),
    updateMeta: db.prepare('UPDATE objects SET meta = ? WHERE id = ?'),
    updateTier: db.prepare('UPDATE objects SET tier = ?, storage_class = ?, blob_id = ?, inline = ?, inline_crc = ? WHERE id = ?'),
    insertPart: db.prepare('INSERT INTO object_parts (object_id, part_number, part_offset, size, etag, checksum, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    partsOf: db.prepare('SELECT * FROM object_parts WHERE object_id = ? AND part_number >= ? ORDER BY part_number LIMIT ?'),
    partBlobs: db.prepare('SELECT blob_id FROM object_parts WHERE object_id = ?'),
    deleteParts: db.prepare('DELETE FROM object_parts WHERE object_id = ?'),
    newBlob: db.prepare('INSERT INTO blobs (id, refs) VALUES (?, 1)'),
    shareBlob: db.prepare('UPDATE blobs SET refs = refs + 1 WHERE id = ? AND refs > 0'),
    release: db.prepare('UPDATE blobs SET refs = refs - 1, released_at = CASE WHEN refs <= 1 THEN ? ELSE released_at END WHERE id = ?'),
    garbage: db.prepare('SELECT id FROM blobs WHERE refs <= 0 AND coalesce(released_at, 0) <= ? LIMIT ?'),
    tryLease: db.prepare(`INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires WHERE leases.holder = excluded.holder OR leases.expires <= ?`),
    releaseLease: db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?'),
    forgetBlob: db.prepare('DELETE FROM blobs WHERE id = ? AND refs <= 0'),
    hasBlob: db.prepare('SELECT 1 FROM blobs WHERE id = ?'),
    insertUpload: db.prepare('INSERT INTO uploads (upload_id, bucket_id, key, initiated, owner, meta) VALUES (?, ?, ?, ?, ?, ?)'),
    getUpload: db.prepare('SELECT * FROM uploads WHERE upload_id = ? AND bucket_id = ?'),
    deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
    getPart: db.prepare('SELECT blob_id FROM upload_parts WHERE upload_id = ? AND part_number = ?'),
    insertCompleted: db.prepare(`INSERT INTO completed_uploads (upload_id, bucket_id, key, version_id, etag, checksum, parts_digest, completed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(upload_id) DO NOTHING`),
    getCompleted: db.prepare('SELECT * FROM completed_uploads WHERE upload_id = ? AND bucket_id = ?'),
    expireCompleted: db.prepare('DELETE FROM completed_uploads WHERE completed_at < ?'),
    putPart: db.prepare(`INSERT INTO upload_parts (upload_id, part_number, size, etag, checksum, last_modified, blob_id) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag, checksum = excluded.checksum,
      last_modified = excluded.last_modified, blob_id = excluded.blob_id`),
    listParts: db.prepare('SELECT * FROM upload_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?'),
    uploadPartBlobs: db.prepare('SELECT blob_id FROM upload_parts WHERE upload_id = ?'),
    deleteUploadParts: db.prepare('DELETE FROM upload_parts WHERE upload_id = ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
