#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of the database source (issue 13).
#   postgres-cluster.sh start DIR [PORT]  -> prints an Npgsql connection string (superuser) on stdout
#   postgres-cluster.sh stop DIR
# Uses initdb/pg_ctl from PATH, /usr/local/bin or Debian's /usr/lib/postgresql/<v>/bin. PostgreSQL refuses
# to run as root, so as root the cluster belongs to (and runs as) the unprivileged user `nobody`.
set -euo pipefail

cmd="${1:?start|stop}"
dir="${2:?directory}"

bindir=""
for candidate in "$(dirname "$(command -v initdb 2>/dev/null || echo /none/initdb)")" /usr/local/bin /usr/lib/postgresql/*/bin; do
    if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
        bindir="$candidate"
        break
    fi
done
if [[ -z "$bindir" ]]; then
    echo "postgres-cluster: initdb/pg_ctl not found (install Debian's postgresql package)" >&2
    exit 2
fi

as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u nobody -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    port="${3:-}"
    if [[ -z "$port" ]]; then
        for p in $(seq 54320 54999); do
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                port="$p"
                break
            fi
        done
    fi
    mkdir -p "$dir"
    [[ "$(id -u)" == 0 ]] && chown nobody "$dir"
    chmod 700 "$dir"
    password="pg-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$password" >"$dir/pwfile"
    [[ "$(id -u)" == 0 ]] && chown nobody "$dir/pwfile"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C >"$dir/initdb.log" 2>&1
    rm -f "$dir/pwfile"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres"
    ;;
stop)
    if [[ -d "$dir/data" ]]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
