#!/usr/bin/env bash
# The five chaos soaks CI runs, side by side: `bash scripts/soaks.sh [--minutes N]`.
#
# Each soak runs on private Docker daemons of its own (and a Redis of its own) under a controller
# id of its own, so they share nothing but the CPU. Each one's output is kept whole and printed in
# turn under its title, with how long it took; the exit status is 1 if any soak failed.
set -uo pipefail
cd "$(dirname "$0")/.."

minutes=2
if [ "${1:-}" = "--minutes" ]; then minutes="$2"; fi

npm run --silent build || exit 1

titles=(
  "chaos soak (seed 42)"
  "chaos soak with canaries (updatePartition set and lowered; seed 7)"
  "HA chaos soak (two berths, Redis; seed 42)"
  "swarm chaos soak (berth run --target swarm on a two-node swarm: the worker stopped and drained too; seed 1)"
  "swarm chaos soak with canaries (updatePartition as NAME_canary, set and lowered; seed 3)"
)
commands=(
  "test/soak/soak.ts --seed 42"
  "test/soak/soak.ts --partitions --seed 7"
  "test/soak/soak.ts --ha redis --seed 42"
  "test/soak/swarm-soak.ts --nodes 2 --seed 1"
  "test/soak/swarm-soak.ts --partitions --seed 3"
)

out=$(mktemp -d /tmp/berth-soaks-XXXXXX)
pids=()
for i in "${!commands[@]}"; do
  # shellcheck disable=SC2086 # each command is its words
  (
    start=$SECONDS
    npx tsx ${commands[$i]} --minutes "$minutes" >"$out/$i.log" 2>&1
    status=$?
    echo "exit $status after $((SECONDS - start)) s" >>"$out/$i.log"
    exit "$status"
  ) &
  pids+=($!)
done

failed=0
for i in "${!commands[@]}"; do
  wait "${pids[$i]}" || failed=1
  printf '\n-- %s, %s minutes: npx tsx %s\n' "${titles[$i]}" "$minutes" "${commands[$i]}"
  cat "$out/$i.log"
done
rm -rf "$out"
exit "$failed"
