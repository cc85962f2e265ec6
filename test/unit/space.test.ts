// The full-disk logic without a full disk: which errors mean "out of space".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRORS, S3Error } from '../../src/s3/errors.js';
import { isOutOfSpace } from '../../src/store/space.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

describe('out-of-space errors', () => {
  it('recognises ENOSPC, EDQUOT and SQLITE_FULL, and nothing else', () => {
    assert.ok(isOutOfSpace(errno('ENOSPC')));
    assert.ok(isOutOfSpace(errno('EDQUOT')));
    // better-sqlite3's SqliteError carries the SQLite result code name.
    assert.ok(isOutOfSpace(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })));
    for (const e of [errno('EACCES'), errno('EIO'), Object.assign(new Error('x'), { code: 'SQLITE_IOERR' }), new S3Error('InternalError'), new Error('x'), undefined, null, 'ENOSPC']) {
      assert.equal(isOutOfSpace(e), false, String(e));
    }
  });

  it('is answered 507 InsufficientStorage, which SDKs do not retry', () => {
    const e = new S3Error('InsufficientStorage');
    assert.equal(e.status, 507);
    assert.match(e.message, /storage is full/);
    assert.equal(ERRORS.InsufficientStorage[0], 507);
  });
});
