#!/usr/bin/env bash
# Makes a Node image from the host's own Node, without a registry: the base image the berth image
# is built on in tests (docker build --build-arg NODE_IMAGE=berth-test/node:local .).
#
# The root filesystem holds the host's node binary and npm (laid out as the official node images
# do, under /usr/local), the shared libraries `ldd` lists for node, a static busybox for /bin/sh
# and the usual tools, and a minimal /etc. It is imported with `docker import`.
#
# Idempotent: an image under the tag that was made from the same Node version is kept.
# Usage: bash scripts/build-node-image.sh [TAG]   (default berth-test/node:local)
set -euo pipefail

log() { printf 'build-node-image: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

TAG="${1:-berth-test/node:local}"

node_bin=$(readlink -f "$(command -v node)") || die "node is not on PATH"
npm_cli=$(readlink -f "$(command -v npm)") || die "npm is not on PATH"
npm_dir=$(dirname "$(dirname "$npm_cli")") # …/node_modules/npm
[ -f "$npm_dir/package.json" ] || die "cannot find npm's folder (looked at $npm_dir)"
version=$("$node_bin" --version)
version=${version#v}

current=$(docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$TAG" 2>/dev/null |
  sed -n 's/^NODE_VERSION=//p' || true)
if [ "$current" = "$version" ]; then
  log "$TAG is up to date (Node $version)"
  exit 0
fi

busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  die "a statically linked /bin/busybox is needed for /bin/sh (Debian: apt-get install busybox-static)"
fi

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,root,tmp,usr/bin,usr/local/bin,usr/local/lib/node_modules}
chmod 1777 "$rootfs/tmp"
chmod 700 "$rootfs/root"

# node, and the libraries its dynamic loader needs, at the paths ldd resolves them to.
cp "$node_bin" "$rootfs/usr/local/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done

# npm and npx, as in the official images.
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# /bin/sh and friends (RUN steps, npm's lifecycle scripts, #!/usr/bin/env).
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
done
ln -s ../../bin/busybox "$rootfs/usr/bin/env"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

# The host's trust store, added to Node's own roots: npm in a RUN step then trusts what the host's
# npm trusts (a corporate or CI TLS proxy, say).
ca=/etc/ssl/certs/ca-certificates.crt
ca_env=()
if [ -r "$ca" ]; then
  mkdir -p "$rootfs/etc/ssl/certs"
  cp -L "$ca" "$rootfs$ca"
  ca_env=(--change "ENV NODE_EXTRA_CA_CERTS=$ca")
fi

tar -C "$rootfs" -c . | docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$version" \
  "${ca_env[@]}" \
  --change 'CMD ["node"]' \
  --message "berth test image: the host's Node $version" - "$TAG" >/dev/null
if ! docker run --rm --network none "$TAG" sh -c 'node -e "require(\"node:http\")" && npm --version' >/dev/null; then
  docker rmi "$TAG" >/dev/null 2>&1 || true
  die "the image made from $node_bin does not run node and npm (a library ldd did not list?)"
fi
log "built $TAG from $node_bin (Node $version) and $npm_dir"
