#!/usr/bin/env bash
# The whole of `make test`, in one script so that it always ends the same way:
#   1. ensure-tools   scripts/ensure-tools.sh: the packaging tools the tests use (apt, when missing)
#   2. services-up    scripts/stack.sh up: the private MariaDB and Redis under .run/, and their QKCHAT_* variables
#   3. publish        scripts/publish.sh RID DIST: the AOT binaries (integration tests start dist/qkchatd)
#   4. build          dotnet build of the solution
#   5. every test assembly (xunit v3 executables)
# Its last line is always
#   N passed, M failed[, K skipped]
# and it exits non-zero when anything failed, errored, or a test assembly did not report at all. A step that fails
# (or an interrupt) stops the run and counts as one failure, named on the line just above the summary. The summary
# is also written to .run/test-results/summary.txt, which .ci/run prints again as its own last line.
#   scripts/run-tests.sh [CONFIG [RID [DIST]]]     (defaults: Release linux-x64 dist)
# QKCHAT_TEST_FILTER: extra xunit runner arguments, e.g. -class 'QkChat.Tests.Core.RateLimiterTests' -method "A.B.C d".
# They are split like shell words by xargs (single or double quotes group; no escapes inside quotes), never evaluated: nothing in it is
# expanded or run, and a filter with spaces or quotes reaches the runner as the words it was written as.
#
# Too few tests is a failure too. Without a filter each assembly must run at least MIN_TESTS[name] tests
# (passed + failed + skipped; explicit tests are not run and not counted). The minimums are the counts of the
# assemblies when they were last raised, rounded down: an assembly that discovers nothing, loses a folder of tests
# to a build mistake, or whose host dies part way (a partial or missing result file) falls below and is named.
# Raise them when you add many tests; never lower them to make a run pass. With a filter only "ran at least one"
# is required, since the filter decides how many are expected.
set -uo pipefail
CONFIG=${1:-Release}
RID=${2:-linux-x64}
DIST=${3:-dist}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
results=.run/test-results
rm -rf "$results" && mkdir -p "$results"

declare -A MIN_TESTS=([QkChat.Tests]=590 [QkChat.IntegrationTests]=200)

passed=0 failed=0 skipped=0 finished=0 step=starting

# Runs on every exit: the normal end, a failed step, `exit` from the signal trap below, a bug in this script.
summary() {
    local code=$? line
    trap - EXIT INT TERM HUP
    if ((!finished)); then
        local what="failed (exit $code)"
        ((code == 130)) && what="was interrupted"
        case $step in
            QkChat.*) echo "tests: running $step $what; counted as 1 more failure" ;;
            *) echo "tests: step '$step' $what, so no test ran; counted as 1 failure" ;;
        esac
        failed=$((failed + 1))
    fi
    line="$passed passed, $failed failed"
    ((skipped > 0)) && line+=", $skipped skipped"
    { printf '%s\n' "$line" >"$results/summary.txt"; } 2>/dev/null
    echo "$line"
    ((failed == 0)) && exit 0
    exit 1
}
trap summary EXIT
trap 'exit 130' INT TERM HUP

# run NAME COMMAND...: one set-up step; its failure ends the run (summary above says which).
run() {
    step=$1
    shift
    echo "tests: $step"
    "$@" || exit $?
}

stack_env() {
    local exports
    exports=$(scripts/stack.sh env) && eval "$exports"
}

run ensure-tools scripts/ensure-tools.sh
run services-up scripts/stack.sh up
run services-env stack_env

# Per-address budgets (verification codes per hour, failed logins per 15 min) live in the private Redis and outlast
# a run; tests that connect from 127.0.0.1 (the CLI and packaging tests start real processes) would find the budget
# an earlier run used up within the hour. A CI clone starts with an empty Redis: forget them so a second local run
# starts the same way. Only these keys of the private stack's Redis are touched.
forget_address_budgets() {
    local redis=(redis-cli -h "$QKCHAT_REDIS_HOST" -p "$QKCHAT_REDIS_PORT")
    "${redis[@]}" --scan --pattern 'qk:vc:hour-ip:*' | xargs -r "${redis[@]}" DEL >/dev/null &&
        "${redis[@]}" --scan --pattern 'qk:lf:ip:*' | xargs -r "${redis[@]}" DEL >/dev/null
}
run forget-address-budgets forget_address_budgets
run publish scripts/publish.sh "$RID" "$DIST"

# Integration tests start the published AOT binary: they see what users run.
export QKCHAT_TEST_SERVER_BIN=${QKCHAT_TEST_SERVER_BIN:-$ROOT/$DIST/qkchatd}
export QKCHAT_TEST_REPO_ROOT=$ROOT

run build dotnet build QkChat.sln -c "$CONFIG" -v quiet -nologo

filter=()
split_filter() {
    [[ -n ${QKCHAT_TEST_FILTER:-} ]] || return 0
    local words
    # xargs splits with quotes and backslashes as a shell would, and only prints: no expansion, no command.
    words=$(xargs -r printf '%s\n' <<<"$QKCHAT_TEST_FILTER") || {
        echo "tests: QKCHAT_TEST_FILTER does not split into words (unbalanced quote?): $QKCHAT_TEST_FILTER"
        return 1
    }
    mapfile -t filter <<<"$words"
}
run filter split_filter

broken=0
for project in tests/QkChat.Tests tests/QkChat.IntegrationTests; do
    name=${project##*/}
    step=$name
    dll=$project/bin/$CONFIG/net10.0/$name.dll
    xml=$results/$name.xml
    echo "tests: running $name"
    dotnet "$dll" -noColor -noLogo -result-xml "$xml" "${filter[@]}"
    code=$?
    if [[ ! -s $xml ]]; then
        echo "tests: $name produced no results (exit $code)"
        broken=$((broken + 1))
        continue
    fi
    # The <assembly> element carries the counts; errors are failures outside a test (fixtures, cleanup).
    assembly=$(grep -o '<assembly [^>]*>' "$xml" | head -n 1)
    count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$assembly" | grep . || echo 0; }
    p=$(count passed) f=$(count failed) s=$(($(count skipped) + $(count not-run))) e=$(count errors)
    passed=$((passed + p)) failed=$((failed + f + e)) skipped=$((skipped + s))
    if ((code != 0 && f + e == 0)); then broken=$((broken + 1)); echo "tests: $name exited $code"; fi
    ran=$((p + f + $(count skipped)))
    expected=${MIN_TESTS[$name]:-1}
    ((${#filter[@]} > 0)) && expected=1
    if ((ran < expected)); then
        echo "tests: $name ran $ran tests, expected at least $expected; counted as 1 more failure"
        broken=$((broken + 1))
    fi
done
failed=$((failed + broken))
finished=1
