#!/usr/bin/env bash
# Builds and runs every test assembly (xunit v3 executables), then prints one closing line:
#   N passed, M failed[, K skipped]
# and exits non-zero when anything failed, errored, or a test assembly did not report at all.
set -uo pipefail
CONFIG=${1:-Release}
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
results=.run/test-results
rm -rf "$results" && mkdir -p "$results"

# Integration tests start the published AOT binary: they see what users run.
export QKCHAT_TEST_SERVER_BIN=${QKCHAT_TEST_SERVER_BIN:-$ROOT/dist/qkchatd}
export QKCHAT_TEST_REPO_ROOT=$ROOT

if ! dotnet build QkChat.sln -c "$CONFIG" -v quiet -nologo; then
    echo "tests: build failed"
    echo "0 passed, 1 failed"
    exit 1
fi

passed=0 failed=0 skipped=0 broken=0
for project in tests/QkChat.Tests tests/QkChat.IntegrationTests; do
    name=${project##*/}
    dll=$project/bin/$CONFIG/net10.0/$name.dll
    xml=$results/$name.xml
    echo "tests: running $name"
    dotnet "$dll" -noColor -noLogo -result-xml "$xml" ${QKCHAT_TEST_FILTER:-}
    code=$?
    if [[ ! -s $xml ]]; then
        echo "tests: $name produced no results (exit $code)"
        broken=$((broken + 1))
        continue
    fi
    # The <assembly> element carries the counts; errors are failures outside a test (fixtures, cleanup).
    assembly=$(grep -o '<assembly [^>]*>' "$xml" | head -n 1)
    count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$assembly" | grep . || echo 0; }
    p=$(count passed) f=$(count failed) s=$(( $(count skipped) + $(count not-run) )) e=$(count errors)
    passed=$((passed + p)) failed=$((failed + f + e)) skipped=$((skipped + s))
    if ((code != 0 && f + e == 0)); then broken=$((broken + 1)); echo "tests: $name exited $code"; fi
done
failed=$((failed + broken))
line="$passed passed, $failed failed"
((skipped > 0)) && line+=", $skipped skipped"
echo "$line"
((failed == 0))
