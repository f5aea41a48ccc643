#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test run (issue 10): initdb into DIR as an unprivileged
# user, listening on a free port on 127.0.0.1 only, password authentication (scram), fsync off
# (a test cluster holds nothing worth a disk sync). FLARE_PG_TEST_DURABLE=1 keeps fsync,
# synchronous_commit and full_page_writes on, as on a production server (bench/ack_load does, so
# its commits cost a disk sync like SQLite's synchronous=full).
#
#   pg-test-cluster.sh start DIR   writes DIR/url (postgresql://flare_test@127.0.0.1:PORT/postgres)
#                                  and DIR/password. When PostgreSQL is not installed it writes
#                                  nothing and exits 0: the tests that need it then skip, saying so.
#   pg-test-cluster.sh stop DIR    stops the cluster and removes DIR.
#
# ctest runs `start` before and `stop` after the PostgreSQL tests (a test fixture), and the tests
# read DIR/url; tests/support/pg_test_cluster.* also runs it when a test binary is run by hand.
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

find_bin() {
  local name=$1
  for candidate in "$(command -v "$name" 2>/dev/null || true)" /usr/lib/postgresql/*/bin/"$name"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

# initdb and postgres refuse to run as root: run them as `nobody` then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

case "$command" in
  start)
    rm -rf "$dir"
    initdb=$(find_bin initdb) || { echo "pg-test-cluster: initdb not found (apt-get install postgresql-15); PostgreSQL tests will skip" >&2; exit 0; }
    pg_ctl=$(find_bin pg_ctl) || { echo "pg-test-cluster: pg_ctl not found (apt-get install postgresql-15); PostgreSQL tests will skip" >&2; exit 0; }
    mkdir -p "$dir"
    data="$dir/data"
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    printf '%s\n' "$password" >"$dir/pwfile"
    if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$dir"; fi
    as_owner "$initdb" -D "$data" -U flare_test --pwfile="$dir/pwfile" --auth=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [ "${FLARE_PG_TEST_DURABLE:-0}" = "1" ]; then durability=""; fi
    # A free port: try a few random ones; postgres refuses a port in use and pg_ctl reports it.
    started=0
    for _ in 1 2 3 4 5 6 7 8; do
      port=$((20000 + RANDOM % 30000))
      if as_owner "$pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' $durability \
            -c max_connections=200" >/dev/null 2>&1; then
        started=1
        break
      fi
    done
    if [ "$started" -ne 1 ]; then
      echo "pg-test-cluster: could not start PostgreSQL; its log:" >&2
      tail -n 20 "$dir/server.log" >&2 || true
      exit 1
    fi
    printf '%s\n' "$password" >"$dir/password"
    chmod 600 "$dir/password"
    printf 'postgresql://flare_test@127.0.0.1:%s/postgres\n' "$port" >"$dir/url"
    echo "pg-test-cluster: PostgreSQL on 127.0.0.1:$port ($data)"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      pg_ctl=$(find_bin pg_ctl) || true
      if [ -n "${pg_ctl:-}" ]; then as_owner "$pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true; fi
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
