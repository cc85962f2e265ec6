#!/usr/bin/env bash
# Three Trove nodes over one PostgreSQL database and one data directory, behind HAProxy with
# docs/deploy/haproxy.cfg, all on this machine: the README's deployment, runnable. With --check it
# runs scripts/three-nodes-check.mjs through the load balancer (writes, reads on every node, a node
# killed with -9 while the others go on) and stops; without it, it stays up until Ctrl-C.
#
#   scripts/three-nodes.sh [--check]
#
# Needs: PostgreSQL server binaries (/usr/lib/postgresql/*/bin), haproxy. Ports 9000-9003.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TROVE="node $ROOT/dist/src/main.js"
CLEANUP=()
trap 'for c in "${CLEANUP[@]}"; do eval "$c"; done' EXIT
(cd "$ROOT" && npx tsc -p .)

# shellcheck source=lib/throwaway-pg.sh
. "$ROOT/scripts/lib/throwaway-pg.sh"
start_throwaway_pg
DATA="$(mktemp -d /tmp/trove-3n-XXXXXX)"   # on real nodes: the same NFS/CephFS mount on each
CLEANUP+=("rm -rf $DATA")
echo "metadata: $TROVE_META_URL   data: $DATA"

# Started together on purpose: one of them creates the root account and its keys, the others use them.
for n in 1 2 3; do
  TROVE_LOG_LEVEL=warn $TROVE server --address "127.0.0.1:900$n" --data-dir "$DATA" --meta "$TROVE_META_URL" \
    --node-id "node$n" --workers 1 --trusted-proxies 127.0.0.1 > "$DATA.node$n.log" 2>&1 &
  echo $! > "$DATA.node$n.pid"
  CLEANUP+=("kill \$(cat $DATA.node$n.pid) 2>/dev/null; rm -f $DATA.node$n.pid $DATA.node$n.log")
done
for n in 1 2 3; do
  for _ in $(seq 150); do (echo > "/dev/tcp/127.0.0.1/900$n") 2>/dev/null && break; sleep 0.1; done
done
haproxy -f "$ROOT/docs/deploy/haproxy.cfg" -db > "$DATA.haproxy.log" 2>&1 &
HAPROXY=$!
CLEANUP+=("kill $HAPROXY 2>/dev/null; rm -f $DATA.haproxy.log")
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/9000) 2>/dev/null && break; sleep 0.1; done
echo "S3 endpoint: http://127.0.0.1:9000 (nodes on 9001-9003); root keys: $DATA/root-credentials.json"

if [ "${1:-}" = --check ]; then
  node "$ROOT/scripts/three-nodes-check.mjs" "$DATA/root-credentials.json" "$(cat "$DATA.node2.pid")"
else
  wait "$HAPROXY"
fi
