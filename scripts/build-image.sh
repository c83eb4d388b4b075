#!/usr/bin/env bash
# Builds the berth image with its OCI labels' build arguments: the version from package.json (the
# one place it is written), the creation time, and the source and revision from Git when this is a
# clone. Any other arguments go to `docker build` (a tag, another base image).
#
# Usage: bash scripts/build-image.sh [-t berth] [--build-arg NODE_IMAGE=berth-test/node:local] ...
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(node -p 'require("./package.json").version')
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
source=$(git remote get-url origin 2>/dev/null | sed -E "s#//[^/@]*@#//#" || echo unknown)
[ -n "$source" ] || source=unknown
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)

exec docker build \
  --build-arg "BERTH_VERSION=$version" \
  --build-arg "BERTH_CREATED=$created" \
  --build-arg "BERTH_SOURCE=$source" \
  --build-arg "BERTH_REVISION=$revision" \
  "$@" .
