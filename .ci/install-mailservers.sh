#!/usr/bin/env bash
# Install Dovecot (IMAP + LMTP) and Postfix for the integration tests, without leaving them running.
#
# The tests start their own private instances on loopback (tests/support/mailservers.py); the
# system-wide daemons that the Debian postinst scripts may start are stopped here, by the PIDs in
# their pid files, so they hold no ports and write nothing under /var.
# Idempotent: exits 0 without touching apt when everything is already installed.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(dovecot-imapd dovecot-lmtpd postfix openssl)

log() { printf 'install-mailservers: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (apt-get install)" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

# Stop a daemon by the PID in its pid file (never by process name: test runs have their own).
stop_by_pidfile() {
    local name=$1 pidfile=$2 pid
    [[ -s $pidfile ]] || return 0
    pid=$(tr -d ' \n' <"$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        log "stopped system-wide $name (pid $pid)"
    fi
}

stop_system_daemons() {
    stop_by_pidfile dovecot /run/dovecot/master.pid
    stop_by_pidfile postfix /var/spool/postfix/pid/master.pid
    # Keep them from coming back on a machine that does have an init system.
    if command -v update-rc.d >/dev/null; then
        update-rc.d -f dovecot disable >/dev/null 2>&1 || true
        update-rc.d -f postfix disable >/dev/null 2>&1 || true
    fi
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl disable --now dovecot.service postfix.service >/dev/null 2>&1 || true
    fi
    log "system-wide dovecot and postfix: not running, not enabled at boot"
}

if [[ ${#missing[@]} -eq 0 ]]; then
    log "already installed: ${PACKAGES[*]}"
    stop_system_daemons
    exit 0
fi

log "installing: ${missing[*]}"
# "No configuration": postinst writes no main.cf and starts no mail service of its own.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections

# policy-rc.d exit 101 tells invoke-rc.d not to start daemons during the install.
policy=/usr/sbin/policy-rc.d
created_policy=no
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    created_policy=yes
fi
remove_policy() { if [[ $created_policy == yes ]]; then rm -f "$policy"; fi; }
trap remove_policy EXIT

apt_install() {
    apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}

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

stop_system_daemons
log "done: $(dovecot --version 2>/dev/null | head -n1 | sed 's/^/dovecot /'), postfix $(postconf -d -h mail_version 2>/dev/null)"
