#!/usr/bin/env bash
# Installs the tools that packaging (scripts/package-*.sh) and its tests need when a fresh Debian 12 lacks
# them. Tests never install anything themselves; `make test` runs this first. Safe to run again: it does
# nothing when every tool is present. apt never starts services here (shared/platform-notes.md).
set -euo pipefail

# tool -> Debian package: systemd-analyze verifies the unit, objdump reads the glibc versions the binaries
# need, dpkg-deb builds and inspects the .deb, useradd runs in the maintainer scripts, chromium (headless)
# loads the admin dashboard in its test.
declare -A packages=([systemd-analyze]=systemd [objdump]=binutils [dpkg-deb]=dpkg [useradd]=passwd [chromium]=chromium)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
for tool in "${!packages[@]}"; do
    command -v "$tool" >/dev/null || missing+=("${packages[$tool]}")
done
((${#missing[@]} == 0)) && exit 0
((EUID == 0)) || { echo "ensure-tools: missing ${missing[*]}; install them as root" >&2; exit 1; }

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
mkdir -p "$ROOT/.run"
log=$ROOT/.run/apt-tools.log
echo "ensure-tools: installing ${missing[*]} via apt (log: $log)"
# Lock::Timeout: scripts/stack.sh of another checkout may be running apt at the same moment.
{
    apt-get -o DPkg::Lock::Timeout=120 update &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "${missing[@]}"
} </dev/null >>"$log" 2>&1 || { tail -n 20 "$log" >&2; echo "ensure-tools: apt-get failed" >&2; exit 1; }
