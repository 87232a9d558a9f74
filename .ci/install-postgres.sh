#!/usr/bin/env bash
# Install the PostgreSQL server from Debian's packages for the tests, without leaving a cluster running.
#
# The tests start their own private server on loopback in a temporary folder (tests/support/postgres.py) and stop
# it by its PID; the system-wide cluster that Debian's postinst creates and may start is stopped here (by the PID
# in its pid file, never by process name) and kept from starting at boot.
# Idempotent: exits 0 without touching apt when the server binaries are already installed.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(postgresql)

log() { printf 'install-postgres: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (apt-get install)" >&2
    exit 1
fi

installed() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && getent passwd postgres >/dev/null; }

stop_system_clusters() {
    local pidfile pid
    for pidfile in /var/lib/postgresql/*/*/postmaster.pid; do
        [[ -s $pidfile ]] || continue
        pid=$(head -n 1 "$pidfile" | tr -d ' \n')
        if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
            kill -INT "$pid" 2>/dev/null || true # fast shutdown
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            log "stopped the system-wide cluster (pid $pid)"
        fi
    done
    if command -v update-rc.d >/dev/null; then
        update-rc.d -f postgresql disable >/dev/null 2>&1 || true
    fi
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl disable --now postgresql.service >/dev/null 2>&1 || true
    fi
}

if installed; then
    log "already installed: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
    stop_system_clusters
    exit 0
fi

log "installing: ${PACKAGES[*]}"
# policy-rc.d exit 101 tells invoke-rc.d not to start the cluster during the install.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=yes
fi
remove_policy() { if [[ $created_policy == yes ]]; then rm -f "$policy"; fi; }
trap remove_policy EXIT

apt_install() { apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"; }

# Refresh the package lists only when they are absent or the install fails on stale ones.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log "apt-get update (no package lists yet)"
    apt-get update -q
    apt_install
elif ! apt_install; then
    log "install failed; apt-get update and retry"
    apt-get update -q
    apt_install
fi

stop_system_clusters
log "done: $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
