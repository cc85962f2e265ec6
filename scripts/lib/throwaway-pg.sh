# Sourced by scripts: start_throwaway_pg starts a PostgreSQL cluster in a temp dir on a free port
# (initdb + pg_ctl from /usr/lib/postgresql/<version>/bin, as the postgres user when we are root,
# which PostgreSQL requires), exports TROVE_META_URL, and appends its removal to the CLEANUP array
# the caller runs at exit.
start_throwaway_pg() {
  local pgbin pgdir pgport
  pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  pgdir="$(mktemp -d /tmp/trove-pg-XXXXXX)"
  mkdir "$pgdir/sock"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$pgdir"; as=(runuser -u postgres --); fi
  pgport="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${as[@]}" "$pgbin/initdb" -D "$pgdir/data" -U trove --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
  CLEANUP+=("${as[*]} $pgbin/pg_ctl stop -D $pgdir/data -m fast >/dev/null 2>&1; rm -rf $pgdir")
  "${as[@]}" "$pgbin/pg_ctl" start -D "$pgdir/data" -w -l "$pgdir/log" \
    -o "-p $pgport -k $pgdir/sock -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null
  export TROVE_META_URL="postgres://trove@127.0.0.1:$pgport/postgres"
  PG_PORT="$pgport"
}
