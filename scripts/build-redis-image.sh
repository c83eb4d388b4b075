#!/usr/bin/env bash
# Makes a Redis image from the host's own redis-server (Debian's, scripts/ensure-redis.sh), without
# a registry: what deploy/ha.compose.yaml runs in tests (REDIS_IMAGE=berth-test/redis:local). The
# image is the Node test image (a static busybox for /bin/sh, a minimal /etc: scripts/build-node-image.sh)
# plus redis-server and the shared libraries `ldd` lists for it.
#
# Usage: bash scripts/build-redis-image.sh [TAG]   (default berth-test/redis:local; the Node image must exist)
set -euo pipefail

log() { printf 'build-redis-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

TAG="${1:-berth-test/redis:local}"
BASE="${BASE_IMAGE:-berth-test/node:local}"
server=$(readlink -f "$(command -v redis-server)") || die "redis-server is not on PATH (bash scripts/ensure-redis.sh)"

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
mkdir -p "$context/rootfs/usr/local/bin"
cp "$server" "$context/rootfs/usr/local/bin/redis-server"
for lib in $(ldd "$server" | grep -o '/[^ ]*'); do
  mkdir -p "$context/rootfs$(dirname "$lib")"
  cp -L "$lib" "$context/rootfs$lib"
done
printf 'FROM %s\nCOPY rootfs/ /\nUSER 999:999\nCMD ["redis-server"]\n' "$BASE" >"$context/Dockerfile"
docker build -q -t "$TAG" "$context" >/dev/null
log "$TAG built from $server"
