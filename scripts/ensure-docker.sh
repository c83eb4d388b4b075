#!/usr/bin/env bash
# Makes sure a Docker engine answers and the local test images exist.
#
# 1. Uses the engine that answers at DOCKER_HOST or the default socket.
# 2. Otherwise, as root on Debian/Ubuntu: installs Debian's docker.io, starts dockerd in the
#    background (log: /tmp/berth-dockerd.log) and waits until it answers.
# 3. Otherwise fails, saying how to get one.
# Then builds the test images locally (no registry is needed): a busybox image imported from
# the root filesystem of Debian's busybox-static, tagged busybox:latest (the bundled specs) and
# berth-test/busybox:latest (the tests); and berth-test/node:local, a Node image made from the
# host's own Node (scripts/build-node-image.sh), the base the berth image is built on in tests.
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

start_engine() {
  if ! have dockerd; then
    can_apt || die "no Docker engine answers at $SOCKET_DESC and dockerd is not installed.
  Install Docker (Debian/Ubuntu: sudo apt-get install docker.io; elsewhere: https://docs.docker.com/engine/install/),
  start it (sudo systemctl start docker), or point DOCKER_HOST at an engine, then run this again."
    apt_install docker.io
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

if ! engine_answers; then
  if ! have docker && can_apt; then apt_install docker.io; fi
  engine_answers || start_engine
fi
log "engine: $(docker version --format 'Docker {{.Server.Version}}, API {{.Server.APIVersion}}') at $SOCKET_DESC"
ensure_images
log "test images ready: ${TEST_IMAGES[*]} $NODE_IMAGE"
