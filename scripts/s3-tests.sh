#!/usr/bin/env bash
# Runs the Ceph s3-tests suite (../shared/s3-tests/run.sh) against a fresh Trove that knows the
# suite's default users (main, alt, tenant), then prints the per-area table.
#
#   scripts/s3-tests.sh [run.sh options, e.g. -k 'list_objects or multipart' or --profile extended]
#
# S3TESTS_DIR defaults to ../s3-tests; OUT (results) to /tmp/s3t-<timestamp>; PORT to 8000.
# META=postgres keeps the metadata in a throwaway PostgreSQL cluster (initdb + pg_ctl from
# /usr/lib/postgresql/<version>/bin, in a temp dir, on a free port); META=postgres://… in that
# database (which should be empty); unset: SQLite, as by default.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared/s3-tests}"
export S3TESTS_DIR="${S3TESTS_DIR:-$ROOT/../s3-tests}"
PORT="${PORT:-8000}"
OUT="${OUT:-/tmp/s3t-$(date +%Y%m%d-%H%M%S)}"
DATA="$(mktemp -d /tmp/trove-s3t-XXXXXX)"
TROVE="node $ROOT/dist/src/main.js"
CLEANUP=()
trap 'for c in "${CLEANUP[@]}"; do eval "$c"; done' EXIT

(cd "$ROOT" && npx tsc -p .)

# shellcheck source=lib/throwaway-pg.sh
. "$ROOT/scripts/lib/throwaway-pg.sh"
if [ "${META:-}" = postgres ]; then
  start_throwaway_pg
  echo "metadata: PostgreSQL (throwaway cluster on port $PG_PORT)"
elif [ -n "${META:-}" ]; then
  export TROVE_META_URL="$META"
  echo "metadata: PostgreSQL ($META)"
fi
$TROVE admin account add --data-dir "$DATA" --id testid --name 'M. Tester' --email tester@ceph.com \
  --access-key 0555b35654ad1656d804 --secret-key 'h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q==' >/dev/null
# The alt user. The S3 tests need it as another account (about 50 of them check that it cannot
# touch main's buckets). RGW's user-policy tests (test_iam.py, marker iam_tenant) have the [iam]
# user put policies on the alt user by its id, as on a user of its own tenant: in AWS's model, an
# IAM user of the [iam] account, named by that id, which can do nothing but what its policies
# allow. A run of test_iam.py alone provisions it so (TROVE_S3T_ALT=iam-user|account overrides).
ALT_MODE="${TROVE_S3T_ALT:-}"
if [ -z "$ALT_MODE" ]; then
  case "$*" in *test_iam.py*) case "$*" in *test_s3.py*|*test_headers.py*) ALT_MODE=account;; *) ALT_MODE=iam-user;; esac;; *) ALT_MODE=account;; esac
fi
if [ "$ALT_MODE" = account ]; then
  $TROVE admin account add --data-dir "$DATA" --id 56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234 --name john.doe --email john.doe@example.com \
    --access-key NOPQRSTUVWXYZABCDEFG --secret-key nopqrstuvwxyzabcdefghijklmnabcdefghijklm >/dev/null
fi
$TROVE admin account add --data-dir "$DATA" --id 'testx$9876543210abcdef0123456789abcdef0123456789abcdef0123456789abcdef' --name 'testx$tenanteduser' --email tenanteduser@example.com \
  --access-key HIJKLMNOPQRSTUVWXYZA --secret-key opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab >/dev/null

# The IAM tests sign as two account roots ([iam root], [iam alt root]). Their user_id and email
# (run.sh's defaults, RGW account ids) are the accounts' canonical ids and addresses: the
# cross-account ACL tests grant to them by id= and emailAddress=.
$TROVE admin account add --data-dir "$DATA" --name iam-root --id RGW11111111111111111 --email account1@ceph.com \
  --access-key AAAAAAAAAAAAAAAAAAaa --secret-key aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa >/dev/null
$TROVE admin account add --data-dir "$DATA" --name iam-alt-root --id RGW22222222222222222 --email account2@ceph.com \
  --access-key BBBBBBBBBBBBBBBBBBbb --secret-key bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb >/dev/null

# The [iam] user of RGW's user-policy tests (marker iam_tenant): in Trove's model, the root of an
# account of its own (RGW's IAM-capable admin user of a tenant).
$TROVE admin account add --data-dir "$DATA" --id 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef --name youruseridhere \
  --account-id 111122223333 --email s3@example.com --access-key ABCDEFGHIJKLMNOPQRST --secret-key abcdefghijklmnopqrstuvwxyzabcdefghijklmn >/dev/null

if [ "$ALT_MODE" = iam-user ]; then
  $TROVE admin user add --data-dir "$DATA" --account 111122223333 --name 56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234 \
    --access-key NOPQRSTUVWXYZABCDEFG --secret-key nopqrstuvwxyzabcdefghijklmnabcdefghijklm >/dev/null
fi
echo "s3-tests.sh: alt user provisioned as: $ALT_MODE"

# Our additions to the shared harness's plugin (scripts/s3t_trove.py says what and why).
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
export PYTEST_ADDOPTS="${PYTEST_ADDOPTS:+$PYTEST_ADDOPTS }-p s3t_trove"

# Server-side encryption: a throwaway master key (outside the data directory, mode 0600) and the
# suite's KMS key ids (S3_KMS_KEYID / S3_KMS_KEYID2).
MASTER_KEY_FILE="$(mktemp /tmp/trove-s3t-master-XXXXXX)"
chmod 600 "$MASTER_KEY_FILE"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$MASTER_KEY_FILE"
for k in "${S3_KMS_KEYID:-testkey-1}" "${S3_KMS_KEYID2:-testkey-2}"; do
  $TROVE admin kms create --data-dir "$DATA" --master-key-file "$MASTER_KEY_FILE" --id "$k" > /dev/null
done

# The timed lifecycle tests (extended and all profiles) count a day as lc_debug_interval seconds
# (S3_LC_DEBUG_INTERVAL, default 10), as RGW's rgw_lc_debug_interval: so does the server.
PROFILE_ARG="${S3TESTS_PROFILE:-core}"
prev=""
for a in "$@"; do
  [ "$prev" = --profile ] && PROFILE_ARG="$a"
  case "$a" in --profile=*) PROFILE_ARG="${a#--profile=}";; esac
  prev="$a"
done
if [ "$PROFILE_ARG" = extended ] || [ "$PROFILE_ARG" = all ]; then
  export TROVE_LIFECYCLE_DAY_SECONDS="${S3_LC_DEBUG_INTERVAL:-10}"
  echo "s3-tests.sh: lifecycle day = $TROVE_LIFECYCLE_DAY_SECONDS s"
fi

# Tiering: the suite's extra storage classes (run.sh's storage_classes, from S3_STORAGE_CLASSES;
# the lifecycle transition tests need two) each name a tier on this same server — a bucket of an
# account of its own — so that transitions to them move data. By default two with the extended and
# all profiles (core's tests stay as they were: storage classes multiply its copy tests by nine);
# S3_STORAGE_CLASSES= (empty) for none, or a list of your own.
if [ "$PROFILE_ARG" = extended ] || [ "$PROFILE_ARG" = all ]; then
  export S3_STORAGE_CLASSES="${S3_STORAGE_CLASSES-LUKEWARM, FROZEN}"
else
  export S3_STORAGE_CLASSES="${S3_STORAGE_CLASSES-}"
fi
TIER_AK=TROVETIERS0000000001 TIER_SK=trove-s3t-tier-secret-key-000000000000001 TIER_BUCKET=trove-s3t-tiers
if [ -n "$S3_STORAGE_CLASSES" ]; then
  $TROVE admin account add --data-dir "$DATA" --name trove-tiers --access-key "$TIER_AK" --secret-key "$TIER_SK" >/dev/null
  for sc in $(echo "$S3_STORAGE_CLASSES" | tr ',' ' '); do
    $TROVE admin tier add "$(echo "$sc" | tr 'A-Z' 'a-z')" --data-dir "$DATA" --master-key-file "$MASTER_KEY_FILE" --endpoint "http://127.0.0.1:$PORT" \
      --bucket "$TIER_BUCKET" --prefix "$sc/" --access-key "$TIER_AK" --secret-key "$TIER_SK" --storage-class "$sc" >/dev/null
  done
fi

# Server access logs: the suite waits 5.5 s (its expected_object_roll_time of 5 s, plus 10 %) after
# its requests before it lists the log bucket; a batch is delivered this long after its first record.
TROVE_LOG_ROLL_SECONDS="${TROVE_LOG_ROLL_SECONDS:-4}" \
TROVE_LOG_LEVEL="${TROVE_LOG_LEVEL:-warn}" $TROVE server --address "127.0.0.1:$PORT" --data-dir "$DATA" --master-key-file "$MASTER_KEY_FILE" > "$DATA/server.log" 2>&1 &
PID=$!
CLEANUP=("kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf $DATA $MASTER_KEY_FILE" "${CLEANUP[@]}")
for _ in $(seq 100); do
  (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
if [ -n "$S3_STORAGE_CLASSES" ]; then
  (cd "$ROOT" && node --input-type=module -e "
    import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
    const s3 = new S3Client({ endpoint: 'http://127.0.0.1:$PORT', region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: '$TIER_AK', secretAccessKey: '$TIER_SK' } });
    await s3.send(new CreateBucketCommand({ Bucket: '$TIER_BUCKET' }));")
fi

"$SHARED/run.sh" --port "$PORT" --out "$OUT" "$@" || true
python3 "$SHARED/categorize.py" "$OUT" --s3tests-dir "$S3TESTS_DIR"
echo "results: $OUT   server log: kept only while running"
cp "$DATA/server.log" "$OUT/server.log" 2>/dev/null || true
