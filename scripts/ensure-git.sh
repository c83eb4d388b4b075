#!/usr/bin/env bash
# Makes sure the programs the GitOps tests run are here (test/docker/gitops.test.ts): git (berth
# runs it for --git sources; the tests serve repositories with git daemon and git http-backend),
# and OpenSSH's client and server (the ssh remote runs sshd on loopback). Idempotent: does nothing
# when all of them are installed. Otherwise, as root on a Debian with apt, installs Debian's
# packages git, openssh-client and openssh-server (its service is not started: the test runs its own
# sshd on a free loopback port).
set -euo pipefail

log() { printf 'ensure-git: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# sshd refuses to start without its privilege separation folder (the package makes it only with its service).
mkdir -p /run/sshd 2>/dev/null || true

have() { command -v git >/dev/null 2>&1 && command -v ssh >/dev/null 2>&1 && [ -x /usr/sbin/sshd ]; }

if have; then
  exit 0
fi
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 ||
  die "git, ssh and sshd are needed by the GitOps tests: install git, openssh-client and openssh-server (or run this as root on Debian)."

log "installing git, openssh-client and openssh-server"
export DEBIAN_FRONTEND=noninteractive
# No service is started by the package's install (policy-rc.d), nor wanted: the tests run their own sshd.
apt-get update -qq
apt-get install -y -qq --no-install-recommends git openssh-client openssh-server >/dev/null
have || die "git, ssh or sshd still missing after apt-get install"
log "git $(git --version | cut -d' ' -f3), $(ssh -V 2>&1 | cut -d, -f1)"
