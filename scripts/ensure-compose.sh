#!/usr/bin/env bash
# Makes sure `docker compose` (Compose v2, the Docker CLI plugin) runs: the baseline `npm run bench`
# measures berth against. Idempotent: does nothing when `docker compose version` already answers.
#
# Otherwise, as root on a Debian with apt: downloads Debian 13's docker-compose package (2.26, a
# static Go binary; Debian 12 ships 1.29, the Python tool users have left) and extracts only its
# plugin binary to /usr/local/lib/docker/cli-plugins/docker-compose. Nothing is installed from
# Debian 13 through apt, so nothing else on the system changes; Debian 12's `docker-compose` (1.29),
# if installed, stays as it is. The Debian 13 source (pinned low) comes from apt-trixie.sh.
set -euo pipefail

log() { printf 'ensure-compose: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
PACKAGE=docker-compose/trixie

if docker compose version >/dev/null 2>&1; then
  exit 0
fi
[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 ||
  die "docker compose (v2) is missing. Install the Docker Compose plugin (https://docs.docker.com/compose/install/linux/), or run this as root on Debian."

if ! apt-cache show "$PACKAGE" >/dev/null 2>&1; then
  log "adding Debian 13 (trixie) as an apt source pinned at priority 100"
  bash "$(dirname "$0")/apt-trixie.sh"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # apt-get download runs as _apt
log "downloading $PACKAGE (the binary only; nothing is installed through apt)"
(cd "$work" && apt-get download -qq "$PACKAGE" >/dev/null)
dpkg -x "$work"/docker-compose_*.deb "$work/root"
binary=$(find "$work/root" -type f -path '*/cli-plugins/docker-compose' | head -n 1)
[ -n "$binary" ] || die "no cli-plugins/docker-compose in $(basename "$work"/docker-compose_*.deb)"
install -D -m 0755 "$binary" "$PLUGIN_DIR/docker-compose"
docker compose version >/dev/null 2>&1 || die "$PLUGIN_DIR/docker-compose does not run"
log "installed $(docker compose version --short) at $PLUGIN_DIR/docker-compose"
