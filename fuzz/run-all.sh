#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600) and records the outcome.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
export RUSTC_BOOTSTRAP=1   # cargo fuzz needs -Z flags; the stable toolchain accepts them this way
cargo fuzz build || exit 1
for target in $(cargo fuzz list); do
  start=$(date +%s)
  cargo fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 > "logs/$target.log" 2>&1
  status=$?
  echo "$target exit=$status seconds=$(( $(date +%s) - start )) $(grep -E '^#[0-9]+.*(DONE|pulse)' "logs/$target.log" | tail -1)"
done
