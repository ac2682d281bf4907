#!/usr/bin/env bash
# Regenerates docs/web/*.png, the screenshots docs/web.md shows, by running the integration test that captures the web
# client's main screens (tests/QkChat.IntegrationTests/Web/WebScreenshotTests.cs) with its output pointed at docs/web/.
# Needs what that test needs: a Release build (`make build`), the private stack (`make services-up`) and chromium
# (scripts/ensure-tools.sh). The test starts its own server and redis-server.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
# The checkout's private stack, unless the caller already points QKCHAT_DB_* at one.
[[ -n ${QKCHAT_DB_HOST:-} ]] || eval "$(scripts/stack.sh env)"
export QKCHAT_TEST_WEB_SCREENSHOTS="$ROOT/docs/web"
mkdir -p "$QKCHAT_TEST_WEB_SCREENSHOTS"
dotnet tests/QkChat.IntegrationTests/bin/Release/net10.0/QkChat.IntegrationTests.dll -noColor \
    -method 'QkChat.IntegrationTests.Web.WebScreenshotTests.The_main_screens_are_captured'
ls -l "$QKCHAT_TEST_WEB_SCREENSHOTS"
