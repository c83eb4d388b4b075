#!/usr/bin/env bash
# Runs a command with the machine made busy, the way a shared CI machine is: CPU hogs, and a churn
# of containers on the same engine (started and removed, 10 at a time). A test that reads a value
# before it is due fails here first, rather than in CI one run in ten.
#
#   bash scripts/under-load.sh [--hogs N] [--churn N] -- npx vitest run --project docker test/docker/pools.test.ts
#
# Defaults: one CPU hog per two cores (at least one), a churn of 10. The load stops when the command
# ends, and the command's exit status is this script's. The churn's containers carry the label
# berth-load=PID and are removed at the end.
set -euo pipefail

hogs=$(( ($(nproc) + 1) / 2 ))
churn=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --hogs) hogs="$2"; shift 2 ;;
    --churn) churn="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [[ $# -eq 0 ]]; then
  echo "usage: bash scripts/under-load.sh [--hogs N] [--churn N] -- COMMAND..." >&2
  exit 2
fi

label="berth-load=$$"
image="berth-test/busybox:latest"
pids=()

stop_load() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  local left
  left=$(docker ps -aq --filter "label=$label")
  if [[ -n "$left" ]]; then docker rm -f $left >/dev/null 2>&1 || true; fi
}
trap stop_load EXIT

for _ in $(seq 1 "$hogs"); do
  setsid bash -c 'exec yes >/dev/null' &
  pids+=("$!")
done
if [[ "$churn" -gt 0 ]]; then
  setsid bash -c '
    while :; do
      for _ in $(seq 1 "$1"); do docker run -d --label "$2" "$3" sleep 2 >/dev/null 2>&1 & done
      wait
      ids=$(docker ps -aq --filter "label=$2")
      if [[ -n "$ids" ]]; then docker rm -f $ids >/dev/null 2>&1 || true; fi
    done' churn "$churn" "$label" "$image" &
  pids+=("$!")
fi
echo "under-load: $hogs CPU hog(s), a churn of $churn container(s); running: $*" >&2

status=0
"$@" || status=$?
exit "$status"
