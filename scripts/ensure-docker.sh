#!/usr/bin/env bash
# Makes sure a Docker engine answers and the local test images exist.
#
# 1. Uses the engine that answers at DOCKER_HOST or the default socket.
# 2. Otherwise, as root on Debian/Ubuntu: installs Debian's docker.io, starts dockerd in the
#    background (log: /tmp/berth-dockerd.log) and waits until it answers. On Debian 12 the engine
#    comes from Debian 13 (see below).
# 3. Otherwise fails, saying how to get one.
# Then builds the test images locally (no registry is needed): a busybox image imported from
# the root filesystem of Debian's busybox-static, tagged busybox:latest (the bundled specs) and
# berth-test/busybox:latest (the tests); and berth-test/node:local, a Node image made from the
# host's own Node (scripts/build-node-image.sh), the base the berth image is built on in tests.
# Last, Debian's docker-registry (test/docker/registry.test.ts runs one on loopback to test pulls),
# zsh and fish (the completion tests run the generated scripts in them), redis-server (the --ha
# tests, scripts/ensure-redis.sh) and git and OpenSSH (the --git tests, scripts/ensure-git.sh).
set -euo pipefail

log() { printf 'ensure-docker: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

TEST_IMAGES=(busybox:latest berth-test/busybox:latest)
NODE_IMAGE=berth-test/node:local
SOCKET_DESC="${DOCKER_HOST:-unix:///var/run/docker.sock}"

have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
can_apt() { is_root && have apt-get; }

apt_install() {
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${BERTH_APT_UPDATED:-}" ]; then
    apt-get update -qq >/dev/null
    BERTH_APT_UPDATED=1
  fi
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_answers() { have docker && docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# Docker before 20.10.27 can deadlock when containers on one network stop at the same moment
# (moby/moby#46661, a lock-order bug in libnetwork): from then on every container start and stop
# hangs while list calls still answer. Debian 12 ships 20.10.24, and a CI run of the real-engine
# tests hung on it. Debian 13's docker.io (26.1) installs on Debian 12 as it is, with Debian 12's
# containerd and runc; Debian 13 is added as a source pinned low, so nothing else comes from it.
deadlock_prone() { # $1: a version such as 20.10.24+dfsg1
  local major minor patch
  IFS=. read -r major minor patch <<<"${1%%[+~-]*}"
  ((major < 20 || (major == 20 && minor < 10) || (major == 20 && minor == 10 && ${patch:-0} < 27)))
}
is_bookworm() { grep -qx 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; }

install_engine() {
  if ! is_bookworm; then
    apt_install docker.io
    return
  fi
  log "installing docker.io from Debian 13 (Debian 12's 20.10.24 can deadlock: moby/moby#46661)"
  bash "$(dirname "$0")/apt-trixie.sh"
  BERTH_APT_UPDATED=1
  apt_install docker.io/trixie
}

installed_version() { dockerd --version 2>/dev/null | sed -n 's/^Docker version \([^,]*\),.*/\1/p'; }

start_engine() {
  if ! have dockerd; then
    can_apt || die "no Docker engine answers at $SOCKET_DESC and dockerd is not installed.
  Install Docker (Debian/Ubuntu: sudo apt-get install docker.io; elsewhere: https://docs.docker.com/engine/install/),
  start it (sudo systemctl start docker), or point DOCKER_HOST at an engine, then run this again."
    install_engine
  elif deadlock_prone "$(installed_version)" && can_apt && is_bookworm && [ -z "${DOCKER_HOST:-}" ]; then
    # We are about to start it ourselves: start one without the deadlock.
    install_engine
  fi
  is_root || die "no Docker engine answers at $SOCKET_DESC; start it (sudo systemctl start docker) or set DOCKER_HOST"
  [ -z "${DOCKER_HOST:-}" ] || die "no Docker engine answers at DOCKER_HOST=$DOCKER_HOST; start that engine or unset DOCKER_HOST"
  log "starting dockerd in the background (log: /tmp/berth-dockerd.log)"
  # Detached, with its output in a file, so it never holds a CI job's output open.
  setsid dockerd >/tmp/berth-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    engine_answers && return 0
    sleep 0.5
  done
  tail -n 20 /tmp/berth-dockerd.log >&2 || true
  die "dockerd did not answer within 60 s (log above)"
}

static_busybox() {
  local bin=/bin/busybox
  if [ -x "$bin" ] && ! ldd "$bin" >/dev/null 2>&1; then
    echo "$bin"
    return 0
  fi
  can_apt || die "building the test image needs a statically linked /bin/busybox (Debian: apt-get install busybox-static)"
  apt_install busybox-static
  echo "$bin"
}

build_busybox_image() {
  local busybox rootfs
  busybox=$(static_busybox)
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs"/{bin,etc,tmp,root,var/www,workspace}
  chmod 1777 "$rootfs/tmp"
  cp "$busybox" "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["sh"]' \
    --change 'ENV PATH=/bin' \
    --message "berth test image: Debian busybox-static" - "${TEST_IMAGES[0]}" >/dev/null
  rm -rf "$rootfs"
  log "built ${TEST_IMAGES[0]} from $busybox"
}

ensure_images() {
  if ! docker image inspect "${TEST_IMAGES[0]}" >/dev/null 2>&1; then
    build_busybox_image
  fi
  for tag in "${TEST_IMAGES[@]:1}"; do
    docker image inspect "$tag" >/dev/null 2>&1 || docker tag "${TEST_IMAGES[0]}" "$tag"
  done
  static_busybox >/dev/null # its /bin/sh goes into the Node image too
  bash "$(dirname "${BASH_SOURCE[0]}")/build-node-image.sh" "$NODE_IMAGE"
}

# The image-pull test starts its own registry on 127.0.0.1 (docker-registry serve CONFIG); the
# package's service is kept from starting (a registry on :5000 on every interface) and disabled.
ensure_registry() {
  have docker-registry && return 0
  if ! can_apt; then
    log "warning: docker-registry is not installed (Debian: apt-get install docker-registry); test/docker/registry.test.ts fails without it"
    return 0
  fi
  local policy=/usr/sbin/policy-rc.d own_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
  fi
  local status=0
  apt_install docker-registry || status=$?
  if [ -n "$own_policy" ]; then rm -f "$policy"; fi
  [ "$status" = 0 ] || die "apt-get install docker-registry failed"
  if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
  have docker-registry || die "docker-registry did not install"
}

# test/docker/registry-auth.test.ts runs the registry with htpasswd auth: htpasswd -B writes its bcrypt lines.
ensure_htpasswd() {
  have htpasswd && return 0
  can_apt || die "htpasswd is missing (the registry-auth tests make a bcrypt htpasswd file): install apache2-utils"
  apt_install apache2-utils
}

# test/docker/compose-import.test.ts and the bench compare berth with Compose v2 (`docker compose`):
# ensure-compose.sh extracts Debian 13's plugin binary when it is missing.
ensure_compose() {
  bash "$(dirname "$0")/ensure-compose.sh"
}

# test/unit/cli/completion.test.ts runs the generated completion scripts in zsh and fish themselves.
ensure_shells() {
  if have zsh && have fish; then return 0; fi
  can_apt || die "zsh and fish are missing (the completion tests run them): install both"
  apt_install zsh fish
}

# test/docker/apply-progress.test.ts runs `berth apply` on a pseudo-terminal with util-linux's script.
ensure_script() {
  have script && return 0
  can_apt || die "script is missing (the progress test runs berth apply on a pseudo-terminal with it): install bsdutils"
  apt_install bsdutils
}

if ! engine_answers; then
  if ! have docker && can_apt; then install_engine; fi
  engine_answers || start_engine
fi
version=$(docker version --format '{{.Server.Version}}')
log "engine: $(docker version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}') at $SOCKET_DESC"
if deadlock_prone "$version"; then
  log "warning: Docker $version can deadlock when containers stop at the same moment (moby/moby#46661, fixed in 20.10.27); the real-engine tests may hang on it"
fi
ensure_images
log "test images ready: ${TEST_IMAGES[*]} $NODE_IMAGE"
ensure_compose
log "compose: $(docker compose version --short 2>/dev/null || echo missing)"
ensure_registry
log "docker-registry: $(command -v docker-registry || echo missing)"
ensure_htpasswd
log "htpasswd: $(command -v htpasswd)"
ensure_script
log "script: $(command -v script)"
ensure_shells
log "shells: $(zsh --version 2>/dev/null | head -1), $(fish --version 2>/dev/null)"
# The other programs the tests run: redis-server (--ha), git and OpenSSH (--git).
bash "$(dirname "$0")/ensure-redis.sh"
bash "$(dirname "$0")/ensure-git.sh"
