#!/usr/bin/env bash
# Installs the tools that packaging (scripts/package-*.sh) and its tests need when a fresh Debian 12 lacks
# them. Tests never install anything themselves; `make test` runs this first. Safe to run again: it does
# nothing when every tool is present. The install starts no service (scripts/apt-install.sh).
set -euo pipefail

# tool -> Debian package: systemd-analyze verifies the unit, objdump reads the glibc versions the binaries
# need, dpkg-deb builds and inspects the .deb, useradd runs in the maintainer scripts, chromium (headless)
# loads the admin dashboard in its test and runs the web client in its tests (Playwright drives it; no download).
declare -A packages=([systemd-analyze]=systemd [objdump]=binutils [dpkg-deb]=dpkg [useradd]=passwd [chromium]=chromium)
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

missing=()
for tool in "${!packages[@]}"; do
    command -v "$tool" >/dev/null || missing+=("${packages[$tool]}")
done
((${#missing[@]} == 0)) && exit 0
((EUID == 0)) || { echo "ensure-tools: missing ${missing[*]}; install them as root" >&2; exit 1; }

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=apt-install.sh
source "$ROOT/scripts/apt-install.sh"
mkdir -p "$ROOT/.run"
log=$ROOT/.run/apt-tools.log
echo "ensure-tools: installing ${missing[*]} via apt (log: $log)"
apt_install "$log" "${missing[@]}" || { tail -n 20 "$log" >&2; echo "ensure-tools: apt-get failed" >&2; exit 1; }
