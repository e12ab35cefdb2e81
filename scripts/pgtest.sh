#!/usr/bin/env bash
# pgtest.sh starts and stops a throwaway PostgreSQL server for Herald's
# tests (store/postgres runs the store contract against it).
#
#   scripts/pgtest.sh start [PORT]   initialise a new cluster in a temporary
#                                    directory, start it on 127.0.0.1:PORT and
#                                    print the URL for HERALD_TEST_POSTGRES
#   scripts/pgtest.sh stop [PORT]    stop that server and delete its files
#   scripts/pgtest.sh url [PORT]     print the URL of the running server
#
# PORT defaults to 54329; PGTEST_LOCALE sets the cluster's locale (default
# C). Typical use:
#
#   export HERALD_TEST_POSTGRES=$(scripts/pgtest.sh start)
#   go test -race ./store/postgres/
#   scripts/pgtest.sh stop
#
# The cluster trusts every local connection and runs without fsync: it is
# for tests only and holds nothing worth keeping. PostgreSQL refuses to run
# as root, so as root the server runs as the "postgres" user (override with
# PGTEST_USER). The binaries are found through PG_BINDIR, else pg_config
# --bindir, else the newest /usr/lib/postgresql/*/bin, else PATH.
set -euo pipefail

usage() {
	echo "usage: $0 start|stop|url [PORT]" >&2
	exit 2
}

cmd=${1:-start}
port=${2:-54329}
case $cmd in start | stop | url) ;; *) usage ;; esac
[[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || {
	echo "pgtest: port $port is not a port number" >&2
	exit 2
}

dir="${TMPDIR:-/tmp}/herald-pgtest-$port"
url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"

bindir() {
	if [[ -n ${PG_BINDIR:-} ]]; then
		echo "$PG_BINDIR"
		return
	fi
	if command -v pg_config >/dev/null 2>&1; then
		local d
		d=$(pg_config --bindir 2>/dev/null || true)
		if [[ -x $d/initdb && -x $d/pg_ctl ]]; then
			echo "$d"
			return
		fi
	fi
	local newest
	newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n | tail -n 1 || true)
	if [[ -n $newest && -x $newest/initdb ]]; then
		echo "$newest"
		return
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return
	fi
	echo "pgtest: cannot find initdb and pg_ctl; install PostgreSQL or set PG_BINDIR" >&2
	exit 1
}

# as runs a command as the server's user: ourselves, or PGTEST_USER
# (default postgres) when we are root.
as() {
	if [[ $(id -u) -ne 0 ]]; then
		"$@"
		return
	fi
	local user=${PGTEST_USER:-postgres}
	if ! id "$user" >/dev/null 2>&1; then
		echo "pgtest: PostgreSQL does not run as root and user $user does not exist; set PGTEST_USER" >&2
		exit 1
	fi
	if command -v runuser >/dev/null 2>&1; then
		runuser -u "$user" -- "$@"
	else
		setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
	fi
}

running() {
	[[ -f $dir/data/postmaster.pid ]] && as "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

bin=$(bindir)

case $cmd in
url)
	if ! running; then
		echo "pgtest: no server of ours runs on port $port (start it with: $0 start $port)" >&2
		exit 1
	fi
	echo "$url"
	;;
start)
	if running; then
		echo "pgtest: reusing the server already running in $dir" >&2
		echo "$url"
		exit 0
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	chmod 700 "$dir"
	if [[ $(id -u) -eq 0 ]]; then
		chown "${PGTEST_USER:-postgres}" "$dir"
	fi
	# The C locale by default: the harder case for PostgreSQL's text search
	# parser, which Herald's schema must not depend on. PGTEST_LOCALE=C.UTF-8
	# (or any installed locale) tries another.
	as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale="${PGTEST_LOCALE:-C}" >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	if ! as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null; then
		echo "pgtest: the server did not start; its log:" >&2
		cat "$dir/server.log" >&2 || true
		exit 1
	fi
	echo "$url"
	;;
stop)
	if [[ ! -d $dir ]]; then
		echo "pgtest: nothing to stop on port $port" >&2
		exit 0
	fi
	if running; then
		as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	fi
	rm -rf "$dir"
	;;
esac
