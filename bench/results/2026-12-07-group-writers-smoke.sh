#!/usr/bin/env bash
# Smoke of the many-small-groups shape with several group writers: SERVER_DLL (qkchatd.dll) with LOADGEN_DLL, fresh
# database, own Redis 16401; QKCHAT_GROUP_WRITERS from the environment (default 2) is passed to the server.
# Usage: group-writers-smoke.sh NAME SERVER_DLL LOADGEN_DLL [USERS] [DURATION]
set -euo pipefail
name=$1 server=$2 loadgen=$3 n=${4:-2000} dur=${5:-20}
out=/tmp/gw-smoke-$name; rm -rf "$out"; mkdir -p "$out"; echo '{}' > "$out/empty.json"
eval "$(/work/main/scripts/stack.sh env)"
export QKCHAT_REDIS_PORT=16401 QKCHAT_DB_NAME=qkchat_test_gwsmoke
PORT=18391
mariadb -h "$QKCHAT_DB_HOST" -P "$QKCHAT_DB_PORT" -u "$QKCHAT_DB_USER" -p"$(cat "$QKCHAT_DB_PASSWORD_FILE")" \
    -e "DROP DATABASE IF EXISTS $QKCHAT_DB_NAME; CREATE DATABASE $QKCHAT_DB_NAME CHARACTER SET utf8mb4"
redis-cli -p 16401 flushall >/dev/null
export QKCHAT_PASSWORD_MEMORY_KIB=1024 QKCHAT_PASSWORD_ITERATIONS=1
QKCHAT_LOG_LEVEL=warning QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$out/empty.json" QKCHAT_LOG_TO_FILE=false \
    dotnet "$server" provision-users --count "$n" --prefix lgg --password loadgen-storm-1 --friends groups:10 > "$out/provision.log" 2>&1
QKCHAT_PORT=$PORT QKCHAT_MAX_CLIENTS=19500 QKCHAT_MAX_CLIENTS_PER_IP=19500 QKCHAT_LOGIN_TIMEOUT_S=3600 \
QKCHAT_RATE_LIMIT_RPS=1000000 QKCHAT_RATE_LIMIT_BURST=1000000 QKCHAT_LOG_TO_FILE=false QKCHAT_ADMIN_PORT=0 \
QKCHAT_LOG_LEVEL=information QKCHAT_DB_AUTO_MIGRATE=true QKCHAT_CONFIG_PATH="$out/empty.json" QKCHAT_PASSWORD_QUEUE=$n \
QKCHAT_LOGIN_FAILURES_PER_IP=1000000 dotnet "$server" > "$out/server.log" 2>&1 &
spid=$!
trap 'kill -TERM $spid 2>/dev/null || true; wait $spid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.2; done
echo "== $name writers ${QKCHAT_GROUP_WRITERS:-2} $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$loadgen" group --port $PORT --connections "$n" --group-size 10 --rate 1 --ramp-up 10 --duration "$dur" \
    --prefix lgg --password loadgen-storm-1 --source-addresses 127.0.0.2-127.0.0.9 --server-pid $spid \
    --json "$out/group.json" > "$out/group.md" 2>"$out/loadgen.err" || true
cat "$out/group.md"
kill -TERM $spid; wait $spid 2>/dev/null || true
grep -o "stored since start.*" "$out/server.log" || true
