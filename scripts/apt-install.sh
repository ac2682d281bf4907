# Sourced by scripts/stack.sh and scripts/ensure-tools.sh (not run):
#   apt_install LOG PACKAGE...
# runs `apt-get update` and `apt-get install` (output appended to LOG) without ever starting a service.
#
# Why: on a normal systemd Debian 12, the maintainer scripts of mariadb-server and redis-server start the system's
# own mariadb.service and redis-server.service (ports 3306 and 6379, data in /var/lib/mysql and /var/lib/redis) the
# moment the packages are installed. The private stack promises never to touch the system's services, so it must not
# start them either. Maintainer scripts start services through invoke-rc.d or deb-systemd-invoke, and both ask
# /usr/sbin/policy-rc.d first: exit status 101 means "action forbidden" (invoke-rc.d(8), deb-systemd-invoke(1p)).
# For the length of the install we put one there that forbids every action, then take it away again:
#   - none existed before: ours is created, then removed;
#   - the admin has one (Docker images ship one): it is kept aside as a hard link (the same file: contents, mode,
#     owner and times untouched) while ours is renamed over it, and renamed back afterwards; both renames are
#     atomic, so there is never a moment without a policy;
#   - also when apt fails or we are interrupted (an EXIT trap in the subshell that runs apt), and the next run
#     repairs what a SIGKILL left behind (ours is recognised by its marker line).
# A machine-wide lock keeps two checkouts from swapping the file at the same time.
# What policy-rc.d does not stop: the packages still *enable* their units (deb-systemd-helper does not ask it), so
# on the next boot systemd starts the system's MariaDB and Redis. `systemctl disable mariadb redis-server` if you
# do not want them; the private stack does not change the system's unit settings.

APT_POLICY=/usr/sbin/policy-rc.d
APT_POLICY_SAVED=/usr/sbin/policy-rc.d.qkchat-saved
APT_POLICY_MARK='# qkchat: temporary, forbids every service start during apt-get install (scripts/apt-install.sh)'
APT_LOCK=/run/lock/qkchat-apt.lock

# Ours goes, a saved one comes back. Safe to call any time: it only acts on our marker and our saved name.
apt_policy_restore() {
    if [[ -e $APT_POLICY_SAVED || -L $APT_POLICY_SAVED ]]; then
        if [[ ! -e $APT_POLICY ]] || grep -qxF "$APT_POLICY_MARK" "$APT_POLICY" 2>/dev/null; then
            mv -f "$APT_POLICY_SAVED" "$APT_POLICY" # renames over ours: the admin's file is back, as it was
        else
            echo "apt-install: both $APT_POLICY (not ours) and $APT_POLICY_SAVED exist; left both alone" >&2
        fi
    elif [[ -f $APT_POLICY ]] && grep -qxF "$APT_POLICY_MARK" "$APT_POLICY" 2>/dev/null; then
        rm -f "$APT_POLICY"
    fi
}

# Every step checked by hand: callers run us under `||`, where set -e does not apply.
apt_policy_forbid() {
    apt_policy_restore # what an interrupted earlier run left
    if [[ -e $APT_POLICY_SAVED || -L $APT_POLICY_SAVED ]]; then
        echo "apt-install: $APT_POLICY_SAVED is in the way; not installing" >&2
        return 1
    fi
    printf '#!/bin/sh\n%s\nexit 101\n' "$APT_POLICY_MARK" >"$APT_POLICY.qkchat-new" &&
        chmod 0755 "$APT_POLICY.qkchat-new" || return 1
    if [[ -e $APT_POLICY || -L $APT_POLICY ]]; then
        ln -P "$APT_POLICY" "$APT_POLICY_SAVED" || { rm -f "$APT_POLICY.qkchat-new"; return 1; }
    fi
    mv -f "$APT_POLICY.qkchat-new" "$APT_POLICY"
}

apt_install() {
    local log=$1
    shift
    (
        # /run/lock is a tmpfs on Debian: the lock never outlives a reboot.
        mkdir -p "${APT_LOCK%/*}"
        exec 8>"$APT_LOCK"
        flock -w 600 8 || { echo "apt-install: timed out waiting for another qkchat apt-get on $APT_LOCK" >&2; exit 1; }
        trap apt_policy_restore EXIT
        trap 'exit 130' INT TERM HUP
        apt_policy_forbid || exit 1
        # Lock::Timeout: apt run by something else (unattended-upgrades) may hold dpkg's lock for a while.
        apt-get -o DPkg::Lock::Timeout=120 update &&
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y --no-install-recommends "$@"
    ) </dev/null >>"$log" 2>&1
}
