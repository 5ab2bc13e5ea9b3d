#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite: initdb in a temp dir,
# listening only on a Unix socket there, trust auth, durability off (it is
# deleted afterwards). PostgreSQL refuses to run as root, so as root the
# cluster runs as the `postgres` user.
#
#   scripts/pg-cluster.sh start   -> prints the server URL (no database)
#   scripts/pg-cluster.sh stop DIR
#   scripts/pg-cluster.sh find    -> prints the directory of initdb/pg_ctl
set -euo pipefail

find_pg_bin() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"; return 0
  fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

case "${1:-}" in
  find)
    find_pg_bin ;;
  start)
    bin=$(find_pg_bin) || { echo "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL 15 (apt-get install postgresql)" >&2; exit 1; }
    export PATH="$bin:$PATH"
    dir=$(mktemp -d /tmp/pinline-pg.XXXXXX)
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || { echo "no 'postgres' user to run the cluster as (PostgreSQL refuses root)" >&2; exit 1; }
      chown postgres "$dir"
    fi
    as_pg initdb -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg pg_ctl -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses= -p 5432 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    enc=$(printf '%s' "$dir" | sed 's|/|%2F|g')
    echo "$dir postgres://postgres@$enc:5432"
    ;;
  stop)
    dir=${2:?usage: pg-cluster.sh stop DIR}
    bin=$(find_pg_bin) || exit 0
    export PATH="$bin:$PATH"
    as_pg pg_ctl -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR | find" >&2; exit 2 ;;
esac
