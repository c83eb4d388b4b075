#!/usr/bin/env bash
# Makes sure Debian's redis-server is installed (the --ha redis tests and the HA soak start their
# own on loopback; nothing is started here). As root with apt-get; else it must be on PATH.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  printf 'ensure-redis: %s\n' "$(redis-server --version | cut -d' ' -f1-3)" >&2
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  printf 'ensure-redis: installing redis-server with apt-get\n' >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # Debian's package starts a service; the tests run their own on other ports.
  exit 0
fi
printf 'ensure-redis: redis-server is not installed (Debian: apt-get install redis-server)\n' >&2
exit 1
