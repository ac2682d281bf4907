#!/usr/bin/env bash
# A private MariaDB + Redis for this checkout, for development and integration tests.
#   scripts/stack.sh up|down|status|env|help
# Everything lives under $ROOT/.run/ and binds 127.0.0.1 only, so several checkouts can run side by
# side on different ports and none of it touches the system's /var/lib/mysql or its services: installing
# the packages starts no service either (scripts/apt-install.sh).
#
# A second checkout on the same machine needs ports of its own, given on its first `up` (remembered in
# .run/stack.conf, so later commands need not repeat them):
#   QKCHAT_STACK_DB_PORT=23306 QKCHAT_STACK_REDIS_PORT=26379 make run     (defaults 13306 and 16379)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=apt-install.sh
source "$ROOT/scripts/apt-install.sh"
RUN=$ROOT/.run
CONF=$RUN/stack.conf
SECRET=$RUN/secrets/db_password
DB_DIR=$RUN/mariadb
DB_DATA=$DB_DIR/data
DB_SOCK=$DB_DIR/mysql.sock
DB_PID=$DB_DIR/mariadbd.pid
DB_LOG=$DB_DIR/err.log
REDIS_DIR=$RUN/redis
REDIS_PID=$REDIS_DIR/redis.pid
REDIS_LOG=$REDIS_DIR/redis.log

# Debian installs mariadbd in /usr/sbin, which some callers (make, non-login shells) lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

die() { echo "stack.sh: $*" >&2; exit 1; }
say() { echo "stack: $*"; }

# Ports: environment beats .run/stack.conf beats the defaults. `up` writes the ports it used into the conf
# file, so later calls (status, env, make targets) agree without exports.
load_ports() {
    DB_PORT=13306 REDIS_PORT=16379
    if [[ -f $CONF ]]; then
        local key value
        while IFS='=' read -r key value; do
            case $key in
                DB_PORT) DB_PORT=$value ;;
                REDIS_PORT) REDIS_PORT=$value ;;
            esac
        done <"$CONF"
    fi
    CONF_PORTS="$DB_PORT $REDIS_PORT"
    DB_PORT=${QKCHAT_STACK_DB_PORT:-$DB_PORT}
    REDIS_PORT=${QKCHAT_STACK_REDIS_PORT:-$REDIS_PORT}
    local p
    for p in "$DB_PORT" "$REDIS_PORT"; do
        [[ $p =~ ^[0-9]{1,5}$ ]] && ((p > 0 && p < 65536)) || die "invalid port '$p'"
    done
}

# True when PID is alive and runs program NAME. We only ever signal PIDs that pass this, so a PID
# recycled by some other program after a crash is never killed. A zombie has an empty cmdline and
# therefore counts as gone (PID 1 here is not a reliable reaper).
is_ours() {
    local pid=$1 name=$2 cmd argv0
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    argv0=${cmd%% *}               # redis rewrites its title to "redis-server 127.0.0.1:PORT"
    [[ -n $argv0 && ${argv0##*/} == "$name" ]]
}

# Print the PID from PIDFILE if that process is alive and is NAME.
live_pid() {
    local pidfile=$1 name=$2 pid
    pid=$(cat -- "$pidfile" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && is_ours "$pid" "$name" || return 1
    echo "$pid"
}

# Run "$@" in the background, detached: its own session (a Ctrl-C aimed at the caller, e.g. make,
# must not reach a server), stdin from /dev/null, output appended to file $1, and every other fd
# closed. An inherited pipe (the caller's `| cat`, make's jobserver, our lock fd 9) would otherwise be
# held open for the daemon's whole life and hang whoever waits for EOF or the lock.
detach() {
    local out=$1 fd
    shift
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            ((fd > 2)) && exec {fd}>&-
        done
        exec setsid nohup "$@"
    ) </dev/null >>"$out" 2>&1 &
}

# Something (not necessarily ours) already accepts connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Serialise up/down of the same checkout (fd 9; detach keeps it out of the daemons).
take_lock() {
    exec 9>"$RUN/.lock"
    flock -w 120 9 || die "timed out waiting for another stack.sh on $RUN"
}

ensure_packages() {
    local c missing=()
    for c in mariadbd mariadb-install-db mariadb mariadb-admin redis-server redis-cli; do
        command -v "$c" >/dev/null || missing+=("$c")
    done
    ((${#missing[@]} == 0)) && return 0
    ((EUID == 0)) || die "missing ${missing[*]}; install mariadb-server mariadb-client redis-server as root"
    say "installing mariadb-server mariadb-client redis-server via apt (log: $RUN/apt.log)"
    # Installing them must not start the system's own mariadb.service and redis-server.service (a normal systemd
    # Debian 12 would, from the packages' postinst): apt_install forbids every service start for the length of
    # the install with a temporary /usr/sbin/policy-rc.d that exits 101, removed afterwards, and puts back an
    # admin's own policy-rc.d untouched. Details and limits at the top of scripts/apt-install.sh.
    apt_install "$RUN/apt.log" mariadb-server mariadb-client redis-server ||
        { tail -n 20 "$RUN/apt.log" >&2; die "apt-get failed"; }
    hash -r
}

start_mariadb() {
    local pid i
    if pid=$(live_pid "$DB_PID" mariadbd); then
        say "mariadb already running (pid $pid, port $DB_PORT)"
        return 0
    fi
    rm -f "$DB_PID"
    port_busy "$DB_PORT" && die "port $DB_PORT is in use by another process (another checkout's stack?); run again with QKCHAT_STACK_DB_PORT=<a free port>"
    # Unix socket paths are limited to 107 bytes; fail clearly instead of with a cryptic server log.
    ((${#DB_SOCK} < 108)) || die "socket path too long ($DB_SOCK); use a shorter checkout path"

    if [[ ! -d $DB_DATA ]]; then
        # Initialise into a scratch dir and rename it, so an interrupted init is redone, never half-used.
        rm -rf "$DB_DATA.init"
        mariadb-install-db --no-defaults --datadir="$DB_DATA.init" --user=root \
            --auth-root-authentication-method=socket --skip-test-db \
            </dev/null >"$DB_DIR/install-db.log" 2>&1 ||
            { tail -n 20 "$DB_DIR/install-db.log" >&2; die "mariadb-install-db failed"; }
        mv "$DB_DATA.init" "$DB_DATA"
        say "mariadb datadir initialised in $DB_DATA"
    fi
    # Its own tmpdir, not /tmp: an implicit temporary table's file vanished from /tmp mid-query once in CI
    # ("Error on delete of '/tmp/#sql-temptable-...' (Errcode: 2)", 2026-12-07).
    mkdir -p "$DB_DIR/tmp"
    detach "$DB_DIR/mariadbd.out" mariadbd --no-defaults --datadir="$DB_DATA" --user=root --tmpdir="$DB_DIR/tmp" \
        --socket="$DB_SOCK" --pid-file="$DB_PID" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --log-error="$DB_LOG" --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size="${QKCHAT_STACK_DB_BUFFER_POOL:-1G}" --innodb-log-file-size=512M \
        --max-connections="${QKCHAT_STACK_DB_MAX_CONNECTIONS:-1000}"
    # max_connections: every qkchatd holds up to db.pool_size + 7 (its writers' pool), and the test suite runs many
    # servers at once (cluster tests three per test); MariaDB's default of 151 ran out in a full `make test`
    # ("Too many connections", 2026-12-07). 1,000 costs nothing until used (a few hundred KB per live connection).
    # The 128 MB default pool holds about 400,000 messages with their indexes; past that every batch of inserts
    # reads index pages from disk and chat throughput fell to a third in our runs (bench/RESULTS.md). 1 GB of this
    # machine's 24 GB keeps a few million in memory; a larger redo log spaces out checkpoint flushes under load.
    pid=$! # the subshell exec's setsid, which exec's mariadbd: same PID throughout
    for ((i = 0; i < 150; i++)); do # 30 s
        mariadb-admin --no-defaults --socket="$DB_SOCK" ping >/dev/null 2>&1 &&
            { say "mariadb started (pid $pid, port $DB_PORT)"; return 0; }
        is_ours "$pid" mariadbd || break # died: no point waiting out the timeout
        sleep 0.2
    done
    echo "--- tail of $DB_LOG" >&2
    tail -n 30 "$DB_LOG" >&2 2>/dev/null || true
    die "mariadb did not answer ping"
}

# Runs on every `up`, not just after init: every statement is idempotent, so an `up` after a
# half-finished first run repairs it. The secret file is authoritative (ALTER USER resets it).
provision_db() {
    local pw
    if [[ ! -s $SECRET ]]; then
        # Take a bounded chunk first: `tr </dev/urandom | head` dies of SIGPIPE under pipefail.
        pw=$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'A-Za-z0-9')
        pw=${pw:0:24}
        ((${#pw} == 24)) || die "could not generate a password"
        (umask 077 && printf '%s\n' "$pw" >"$SECRET.tmp") && mv "$SECRET.tmp" "$SECRET"
    fi
    chmod 600 "$SECRET" # also repairs a secret copied in by hand
    pw=$(<"$SECRET") # alphanumeric only, so safe inside the SQL quotes below
    local db host sql=""
    for db in qkchat qkchat_test; do
        sql+="CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"$'\n'
    done
    # Both hosts: TCP clients from 127.0.0.1 and socket clients (localhost) are distinct accounts.
    for host in localhost 127.0.0.1; do
        sql+="CREATE USER IF NOT EXISTS 'qkchat'@'$host' IDENTIFIED BY '$pw';"$'\n'
        sql+="ALTER USER 'qkchat'@'$host' IDENTIFIED BY '$pw';"$'\n'
        # qkchat_test% (a LIKE pattern) lets integration tests create and drop throwaway databases.
        for db in qkchat 'qkchat_test%'; do
            sql+="GRANT ALL PRIVILEGES ON \`$db\`.* TO 'qkchat'@'$host';"$'\n'
        done
    done
    mariadb --no-defaults --socket="$DB_SOCK" -uroot <<<"$sql" || die "creating database/user failed"
}

start_redis() {
    local pid i
    if pid=$(live_pid "$REDIS_PID" redis-server); then
        say "redis already running (pid $pid, port $REDIS_PORT)"
        return 0
    fi
    rm -f "$REDIS_PID"
    # Checked first because the readiness probe below would otherwise get PONG from a stranger.
    port_busy "$REDIS_PORT" && die "port $REDIS_PORT is in use by another process (another checkout's stack?); run again with QKCHAT_STACK_REDIS_PORT=<a free port>"
    detach "$REDIS_DIR/redis.out" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
        --daemonize yes --pidfile "$REDIS_PID" --logfile "$REDIS_LOG" --save '' --appendonly no
    for ((i = 0; i < 50; i++)); do # 10 s
        pid=$(live_pid "$REDIS_PID" redis-server) &&
            [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] &&
            { say "redis started (pid $pid, port $REDIS_PORT)"; return 0; }
        sleep 0.2
    done
    echo "--- tail of $REDIS_LOG" >&2
    tail -n 30 "$REDIS_LOG" >&2 2>/dev/null || true
    die "redis did not answer ping"
}

# SIGTERM, up to 20 s for a clean shutdown, then SIGKILL. Only PIDs from our own pid files.
stop_service() {
    local label=$1 pidfile=$2 name=$3 pid i
    if ! pid=$(live_pid "$pidfile" "$name"); then
        [[ -e $pidfile ]] && rm -f "$pidfile" && say "$label: removed stale pid file"
        say "$label: not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    # Poll the PID, not the pid file: mariadbd deletes its pid file before it has finished exiting.
    for ((i = 0; i < 100; i++)); do
        is_ours "$pid" "$name" || break
        sleep 0.2
    done
    if is_ours "$pid" "$name"; then
        say "$label: still running after 20 s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
    say "$label: stopped (was pid $pid)"
}

cmd_up() {
    mkdir -p "$DB_DIR" "$REDIS_DIR" "$RUN/secrets"
    chmod 700 "$RUN/secrets"
    # Keep the state out of git without editing the project's .gitignore.
    [[ -f $RUN/.gitignore ]] || echo '*' >"$RUN/.gitignore"
    take_lock
    # An explicit QKCHAT_STACK_*_PORT on `up` updates the pinned ports (e.g. the second try after "port 13306 is in
    # use"), unless this checkout's services still run on the old ones.
    if [[ ! -f $CONF || "$DB_PORT $REDIS_PORT" != "$CONF_PORTS" ]]; then
        if [[ -f $CONF ]] && { live_pid "$DB_PID" mariadbd || live_pid "$REDIS_PID" redis-server; } >/dev/null; then
            die "this checkout's stack runs on the ports in $CONF ($CONF_PORTS); \`make services-down\` before changing them"
        fi
        printf 'DB_PORT=%s\nREDIS_PORT=%s\n' "$DB_PORT" "$REDIS_PORT" >"$CONF"
    fi
    ensure_packages
    start_mariadb
    provision_db
    start_redis
}

cmd_down() {
    [[ -d $RUN ]] || { say "nothing to stop"; return 0; }
    take_lock
    stop_service mariadb "$DB_PID" mariadbd
    stop_service redis "$REDIS_PID" redis-server
}

# Exit status 0 only when both run, so `stack.sh status >/dev/null || stack.sh up` works.
cmd_status() {
    local pid rc=0
    if pid=$(live_pid "$DB_PID" mariadbd); then
        echo "mariadb: running (pid $pid, port $DB_PORT)"
    else echo "mariadb: stopped"; rc=3; fi
    if pid=$(live_pid "$REDIS_PID" redis-server); then
        echo "redis: running (pid $pid, port $REDIS_PORT)"
    else echo "redis: stopped"; rc=3; fi
    return "$rc"
}

cmd_env() {
    local pair
    for pair in QKCHAT_DB_HOST=127.0.0.1 "QKCHAT_DB_PORT=$DB_PORT" QKCHAT_DB_USER=qkchat \
        QKCHAT_DB_NAME=qkchat "QKCHAT_DB_PASSWORD_FILE=$SECRET" QKCHAT_REDIS_HOST=127.0.0.1 \
        "QKCHAT_REDIS_PORT=$REDIS_PORT"; do
        printf 'export %s=%q\n' "${pair%%=*}" "${pair#*=}" # %q: checkout paths may contain spaces
    done
    [[ -f $SECRET ]] || echo "stack.sh: warning: $SECRET does not exist yet; run 'up'" >&2
}

usage() {
    cat <<EOF
usage: $0 up|down|status|env|help
  up      start the private MariaDB and Redis under .run/ (installs the packages when missing, starting no service)
  down    stop them (only the PIDs in our pid files)
  status  say whether they run (exit 0 only when both do)
  env     print the QKCHAT_* exports that point qkchatd at them: eval "\$($0 env)"
Ports for this checkout: 127.0.0.1:$DB_PORT (MariaDB), 127.0.0.1:$REDIS_PORT (Redis). A second checkout on the
same machine needs others on its first up, e.g. QKCHAT_STACK_DB_PORT=23306 QKCHAT_STACK_REDIS_PORT=26379
(remembered in .run/stack.conf). QKCHAT_STACK_DB_BUFFER_POOL sets MariaDB's InnoDB buffer pool (default 1G),
QKCHAT_STACK_DB_MAX_CONNECTIONS its max_connections (default 1000).
EOF
}

load_ports
case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    help | -h | --help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
esac
