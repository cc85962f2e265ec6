#!/usr/bin/env bash
# `npm test`: build, run every test (on SQLite, plus the PostgreSQL store's own tests), then run
# the integration files whose behaviour depends on the metadata store a second time, with their
# servers on PostgreSQL (TROVE_TEST_META=postgres; each test process starts a throwaway cluster).
# Left out of the second run: tests of SQLite's files, of the HTTP layer and of the process
# (crash, full disk, hardening, integrity of SQLite rows, unit tests), which no store changes.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p .
node --test --test-concurrency=2 dist/test/

POSTGRES_FILES=(admin-api engine storage notify quota usage qos lifecycle replication replication-encrypted object conditional-delete bucket versioning multipart listing acl policy accountPublicAccessBlock cors website post sse auth iam iam-s3 iam-compat sts federation tiering logging)
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || [ -n "${TROVE_TEST_PG_BIN:-}" ]; then
  echo "# the integration suite again, on PostgreSQL"
  files=()
  for f in "${POSTGRES_FILES[@]}"; do files+=("dist/test/$f.test.js"); done
  TROVE_TEST_META=postgres node --test --test-concurrency=2 "${files[@]}"
elif [ -n "${CI:-}" ]; then
  echo "PostgreSQL server binaries not found (initdb under /usr/lib/postgresql/*/bin): CI must install them (.ci/run does)" >&2
  exit 1
else
  echo "# PostgreSQL server binaries not found: the integration suite on PostgreSQL is SKIPPED (install postgresql to run it)" >&2
fi
