# Issue 20's benchmarks (the WebSocket gateway against TCP), sourced by bench/loopback.sh: `bench/loopback.sh ws
# heartbeat|idle-rss|chat`. Uses loopback.sh's settings (OUT, PORT, QKCHATD_CMD, LOADGEN_CMD, DURATION, RAMP,
# SOURCES, CHAT_HASH, start_server, ...). The server's web listener is on PORT+3 (127.0.0.1); the load generator
# connects to ws://127.0.0.1:PORT+3/ws (qkchat-loadgen --transport ws, no Origin header: not a browser, let in).
# Each mode runs TCP and WebSocket against the same server in one run, one after the other, so a drift of the machine
# weighs on both; the figures for bench/RESULTS.md come from a quiet box.
#   ws heartbeat [CONNS]      heartbeat round trips/s over WebSocket and over TCP (CONNS connections, default 1000) and
#                             qkchatd CPU per round trip for each; ratio WebSocket / TCP (issue 20's target: >= 70 %)
#   ws idle-rss [LOW HIGH]    server RSS per idle WebSocket connection: the slope between LOW and HIGH (default 1000
#                             and 10000) logged-out idle connections, and the same for TCP (target: <= 8 KB; TCP 1.5 KB)
#   ws chat [N]               N users (default 2000) in N/2 friend pairs over TCP, then over WebSocket, on one fresh
#                             database each: success rate, lost / duplicates, p99 (target: 100 %, 0 / 0, p99 near TCP's);
#                             TRANSPORTS="ws tcp" swaps the order (or names one), to rule out an order effect

WS_PORT=$((PORT + 3))
export QKCHAT_HTTP_HOST=127.0.0.1 QKCHAT_HTTP_PORT=$WS_PORT
# start_server waits for the chat port, which qkchatd binds before the web listener: a WebSocket run started then
# had its first connections refused (7 of 20 in a smoke run of `ws chat 20`). This waits for the web port as well.
start_ws_server() {
    start_server
    for _ in $(seq 1 $((${START_WAIT:-60} * 10))); do
        (exec 3<>/dev/tcp/127.0.0.1/$WS_PORT) 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the web listener did not open 127.0.0.1:$WS_PORT in ${START_WAIT:-60} s" >&2
    cat "$OUT/server.log" >&2
    stop_server
    exit 1
}

ws_heartbeat() {
    local conns=${1:-1000}
    echo "== heartbeat over TCP and over WebSocket: $conns connections each, ${DURATION}s measured after ${RAMP}s ramp, one server"
    start_ws_server
    local transport rate cpu trips
    declare -A rates
    for transport in tcp ws; do
        local port=$PORT
        [[ $transport == ws ]] && port=$WS_PORT
        "${ON_LOAD_CPUS[@]}" "${LOADGEN_CMD[@]}" heartbeat --transport "$transport" --port "$port" --connections "$conns" \
            --duration "$DURATION" --ramp-up "$RAMP" --source-addresses "$SOURCES" --server-pid "$server_pid" --quiet \
            --json "$OUT/ws-heartbeat-$transport-$conns.json" >"$OUT/ws-heartbeat-$transport-$conns.md" || true
        # By path (json_path in loopback.sh): the server's CPU, never the generator's; a run without it stops here.
        rate=$(json_path "$OUT/ws-heartbeat-$transport-$conns.json" round_trips_per_s) || exit 1
        trips=$(json_path "$OUT/ws-heartbeat-$transport-$conns.json" round_trips) || exit 1
        cpu=$(json_path "$OUT/ws-heartbeat-$transport-$conns.json" server.cpu_percent) || exit 1
        rates[$transport]=$rate
        grep -E "round trips|p50|p99" "$OUT/ws-heartbeat-$transport-$conns.md" | head -4 | sed "s/^/  $transport: /"
        awk -v t="$transport" -v r="$rate" -v c="$cpu" -v d="$DURATION" -v n="$trips" \
            'BEGIN { printf "  %s: %.0f round trips/s, qkchatd CPU per round trip (measured window): %.2f us\n", t, r, (n > 0 ? c / 100 * d * 1e6 / n : 0) }'
    done
    stop_server
    awk -v ws="${rates[ws]}" -v tcp="${rates[tcp]}" \
        'BEGIN { if (tcp > 0) printf "  WebSocket / TCP: %.1f %% (target: at least 70 %%)\n", ws * 100 / tcp }'
}

# RSS per idle connection: one server, LOW then HIGH connections held (connected, not logged in, no heartbeats) for
# each transport; the slope (HIGH - LOW) / (HIGH - LOW connections) leaves out the server's own fixed memory.
ws_idle_rss() {
    local low=${1:-1000} high=${2:-10000}
    echo "== RSS per idle connection: $low then $high connections, TCP then WebSocket, one server"
    start_ws_server
    local transport conns
    for transport in tcp ws; do
        local port=$PORT
        [[ $transport == ws ]] && port=$WS_PORT
        local rss=()
        for conns in "$low" "$high"; do
            local name="ws-idle-$transport-$conns"
            "${LOADGEN_CMD[@]}" connect --transport "$transport" --port "$port" --connections "$conns" --duration 10 \
                --ramp-up "$RAMP" --heartbeat-interval 0 --source-addresses "$SOURCES" --server-pid "$server_pid" --quiet \
                --json "$OUT/$name.json" >"$OUT/$name.md" || true
            # The report's "server (PID) at open" row: RSS with every connection open.
            rss+=("$(grep -E "server \([0-9]+\) at open" "$OUT/$name.md" | grep -oE 'RSS [0-9.,]+ MiB' | grep -oE '[0-9.,]+' | tr -d , || echo 0)")
            grep -iE "opened|failed|at open|RSS per connection" "$OUT/$name.md" | head -4 | sed "s/^/  $transport $conns: /"
        done
        awk -v t="$transport" -v a="${rss[0]:-0}" -v b="${rss[1]:-0}" -v l="$low" -v h="$high" \
            'BEGIN { printf "  %s: RSS %.1f MiB at %d, %.1f MiB at %d: %.2f KB per idle connection\n", t, a, l, b, h, (b - a) * 1048576 / 1024 / (h - l) }'
    done
    stop_server
}

# issue 20's chat run: the chat scenario over TCP and over WebSocket, each on a fresh database (bench/loopback.sh
# chat's reasons), with the same settings (RATE, PIPELINE, MESSAGE_BYTES).
ws_chat() {
    local n=${1:-2000}
    export QKCHAT_DB_NAME=$CHAT_DB
    local transport
    for transport in ${TRANSPORTS:-tcp ws}; do
        fresh_chat_db
        echo "== chat over $transport: $n users, rate ${RATE:-1}/s each, pipeline ${PIPELINE:-1}, ${DURATION}s measured after ${RAMP}s ramp"
        provision_chat "$n"
        export "${CHAT_HASH[@]}"
        LOG_LEVEL=information PASSWORD_QUEUE=$n start_ws_server
        local port=$PORT
        [[ $transport == ws ]] && port=$WS_PORT
        # pair_args names PORT (the chat port); the WebSocket run's is the web listener's.
        mapfile -t args < <(PORT=$port pair_args chat)
        "${LOADGEN_CMD[@]}" chat --connections "$n" "${args[@]}" --transport "$transport" \
            --json "$OUT/ws-chat-$transport-$n.json" >"$OUT/ws-chat-$transport-$n.md" || true
        grep -E "messages|latency|lost|errors|success|server CPU|verdict" "$OUT/ws-chat-$transport-$n.md" | sed "s/^/  chat $transport $n: /"
        stop_server
        unset QKCHAT_PASSWORD_MEMORY_KIB QKCHAT_PASSWORD_ITERATIONS
    done
}

ws() {
    case ${1:-} in
        heartbeat) shift; ws_heartbeat "$@" ;;
        idle-rss) shift; ws_idle_rss "$@" ;;
        chat) shift; ws_chat "$@" ;;
        *) echo "ws: heartbeat [CONNS], idle-rss [LOW HIGH] or chat [N]" >&2; exit 2 ;;
    esac
}
