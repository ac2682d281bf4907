#!/usr/bin/env bash
# Issue 22 point 2: what each piece of a stored message costs MariaDB, per message, measured server-side.
# Makes a throwaway database with copies of the `messages` table as migrated (SHOW CREATE TABLE of $SOURCE_DB, or of
# a database migrated by the caller), one copy without each secondary index, one with the primary key alone, and the
# search-term table; then stores ROUNDS batches of BATCH rows into each, timed by the server (NOW(6) around the batches
# in one session, so client start-up is not counted), each batch committed on its own (innodb_flush_log_at_trx_commit
# as configured: 1 on the stack). Ways of sending compared on the full table: one multi-row INSERT IGNORE per batch
# (what MessageWriter does), LOAD DATA LOCAL INFILE (what MySqlConnector's MySqlBulkCopy sends), and a prepared
# single-row INSERT executed BATCH times in one transaction.
#
#   eval "$(scripts/stack.sh env)"; bench/message-cost.sh            # ROUNDS=40 BATCH=500 REPEAT=3 by default
#
# Prints a Markdown table of microseconds per message (median of REPEAT runs, run order rotated) and the load average.
set -euo pipefail
ROUNDS=${ROUNDS:-40} BATCH=${BATCH:-500} REPEAT=${REPEAT:-3} SOURCE_DB=${SOURCE_DB:-${QKCHAT_DB_NAME:-qkchat}}
DB=qkchat_test_cost$$  # the stack grants the test user qkchat_test_* databases
PASS=$(cat "${QKCHAT_DB_PASSWORD_FILE:?eval scripts/stack.sh env first}")
WORK=$(mktemp -d)
trap 'mariadb_ -e "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mariadb_() { mariadb --local-infile=1 -h "${QKCHAT_DB_HOST:-127.0.0.1}" -P "${QKCHAT_DB_PORT:-3306}" -u "${QKCHAT_DB_USER:-qkchat}" -p"$PASS" -N -B "$@"; }

mariadb_ -e "CREATE DATABASE $DB"
CREATE=$(mariadb_ -e "SHOW CREATE TABLE $SOURCE_DB.messages" | cut -f2-)
SEARCH=$(mariadb_ -e "SHOW CREATE TABLE $SOURCE_DB.message_search" | cut -f2- | sed 's/,\\n  CONSTRAINT[^\\]*//')
INDEXES=$(mariadb_ -e "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema='$SOURCE_DB' AND table_name='messages' AND index_name <> 'PRIMARY'")

python3 - "$WORK" "$ROUNDS" "$BATCH" <<'PY'
import sys, random
work, rounds, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(22)
cols = "message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, type, content, created_at, file_id"
def row(i):
    s = 100000000 + rng.randrange(1000); r = 100000000 + rng.randrange(1000)
    return (i, s, r, min(s, r), max(s, r), f"c-{i}", "text", f"message {i} hello, how are you today? " + "x" * 20, 1700000000000 + i // 256)
def values(rows): return ",".join(f"({i},{s},{r},{lo},{hi},'{c}','{t}','{b}',{a},NULL)" for i, s, r, lo, hi, c, t, b, a in rows)
for name in ("multi", "load", "prepared", "search"):
    with open(f"{work}/{name}.sql", "w") as f:
        f.write("SET @t0 = NOW(6);\n")
        for k in range(rounds):
            rows = [row((k + 1) * 1_000_000 + j) for j in range(batch)]
            if name == "multi":
                f.write(f"INSERT IGNORE INTO T ({cols}) VALUES {values(rows)};\n")
            elif name == "load":
                with open(f"{work}/load{k}.tsv", "w") as t:
                    for i, s, r, lo, hi, c, ty, b, a in rows: t.write(f"{i}\t{s}\t{r}\t{lo}\t{hi}\t{c}\t{ty}\t{b}\t{a}\t\\N\n")
                f.write(f"LOAD DATA LOCAL INFILE '{work}/load{k}.tsv' IGNORE INTO TABLE T ({cols});\n")
            elif name == "prepared":
                f.write("START TRANSACTION;\n")
                for i, s, r, lo, hi, c, ty, b, a in rows:
                    f.write(f"SET @i={i},@s={s},@r={r},@l={lo},@h={hi},@c='{c}',@b='{b}',@a={a}; EXECUTE p USING @i,@s,@r,@l,@h,@c,@b,@a;\n")
                f.write("COMMIT;\n")
            else:
                f.write("INSERT IGNORE INTO T (message_id, sender_id, receiver_id, user_lo, user_hi, terms) VALUES "
                        + ",".join(f"({i},{s},{r},{lo},{hi},'message {i} hello how are you today xxxxxxxxxxxxxxxxxxxx')" for i, s, r, lo, hi, *_ in rows) + ";\n")
        f.write(f"SELECT TIMESTAMPDIFF(MICROSECOND, @t0, NOW(6)) / {rounds * batch};\n")
PY

# One measured run: a fresh table named T from the given CREATE statement (and ALTERs), then the workload file.
run() { # label create-sql alter-sql workload
    local table="t_$RANDOM$RANDOM" create="${2/CREATE TABLE \`messages\`/CREATE TABLE \`T\`}"
    create="${create/CREATE TABLE \`message_search\`/CREATE TABLE \`T\`}"
    local prep=""
    [[ $4 == prepared ]] && prep="PREPARE p FROM 'INSERT IGNORE INTO $table (message_id, sender_id, receiver_id, user_lo, user_hi, client_msg_id, type, content, created_at, file_id) VALUES (?,?,?,?,?,?,''text'',?,?,NULL)';"
    { echo "USE $DB; ${create//\`T\`/$table}; ${3//TABLE T /TABLE $table }"; echo "$prep"; sed "s/ INTO T / INTO $table /; s/ INTO TABLE T / INTO TABLE $table /" "$WORK/$4.sql"; echo "DROP TABLE $table;"; } \
        | mariadb_ | tail -1
}

declare -A results
labels=("full table, multi-row INSERT" "full table, LOAD DATA LOCAL INFILE (MySqlBulkCopy's path)" "full table, prepared single-row INSERT x $BATCH, one transaction" "primary key only, multi-row INSERT" "message_search rows (FULLTEXT), multi-row INSERT")
for idx in $INDEXES; do labels+=("without $idx, multi-row INSERT"); done
for ((rep = 0; rep < REPEAT; rep++)); do
    for label in "${labels[@]}"; do
        case $label in
            "full table, multi-row INSERT") v=$(run "$label" "$CREATE" "" multi) ;;
            "full table, LOAD DATA"*) v=$(run "$label" "$CREATE" "" load) ;;
            "full table, prepared"*) v=$(run "$label" "$CREATE" "" prepared) ;;
            "primary key only"*) alter=""; for i in $INDEXES; do alter+="ALTER TABLE T DROP INDEX $i;"; done
                                 v=$(run "$label" "$CREATE" "$alter" multi) ;;
            "message_search"*) v=$(run "$label" "$SEARCH" "" search) ;;
            without*) i=${label#without }; i=${i%%,*}; v=$(run "$label" "$CREATE" "ALTER TABLE T DROP INDEX $i;" multi) ;;
        esac
        results[$label]+="$v "
    done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS batches of $BATCH rows per run, median of $REPEAT runs"
echo
echo "| what is stored | µs per message (median) | runs |"
echo "|---|---:|---|"
for label in "${labels[@]}"; do
    med=$(tr ' ' '\n' <<<"${results[$label]}" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "| $label | $med | ${results[$label]}|"
done
