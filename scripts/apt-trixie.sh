#!/usr/bin/env bash
# Adds Debian 13 (trixie) as an apt source pinned at priority 100, so that nothing comes from it
# unless asked for by name (pkg/trixie), then updates the lists. Idempotent. Root on Debian only.
# Used by ensure-docker.sh (docker.io) and ensure-compose.sh (the Compose v2 binary).
set -euo pipefail

if [ ! -f /etc/apt/sources.list.d/berth-trixie.sources ]; then
  cat >/etc/apt/sources.list.d/berth-trixie.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' >/etc/apt/preferences.d/berth-trixie
DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
