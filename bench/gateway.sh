#!/usr/bin/env bash
# Gateway over HTTP vs. a bare axum handler returning the same JSON: same
# load generator (wrk), same concurrency, same run, alternating servers.
#   bench/gateway.sh [DURATION_SECONDS] [CONNECTIONS]
# SELFUP_BASELINE=/path/to/an/older/selfup adds that binary as a third server
# (its own home, same plugin), for before/after comparisons in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-15}"
connections="${2:-64}"
rounds=2

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null || { echo "install wrk (Debian: apt-get install wrk)" >&2; exit 1; }; }
cargo xtask plugins >/dev/null
cargo build --release --quiet -p selfup
cargo build --release --quiet -p selfup-gateway --example bare_axum
target_dir="${CARGO_TARGET_DIR:-target}"
selfup="$target_dir/release/selfup"
bare="$target_dir/release/examples/bare_axum"

home="$(mktemp -d)"
baseline_home="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$home" "$baseline_home"' EXIT
# The example plugins are signed with the repository's development key.
key="$(grep '^RW' keys/dev.pub)"
for h in "$home" "$baseline_home"; do
  printf 'self_upgrading_loop:\n  security:\n    trusted_keys: ["%s"]\n' "$key" >"$h/config.yaml"
done
"$selfup" --home "$home" plugin install target/plugins/test-echo-1.0.0.zip >/dev/null
SELFUP_LOG=warn "$selfup" --home "$home" serve --bind 127.0.0.1:18787 >/dev/null &
"$bare" 127.0.0.1:18788 >/dev/null &
servers=("selfup 18787" "bare-axum 18788")
if [ -n "${SELFUP_BASELINE:-}" ]; then
  "$SELFUP_BASELINE" --home "$baseline_home" plugin install target/plugins/test-echo-1.0.0.zip >/dev/null
  SELFUP_LOG=warn "$SELFUP_BASELINE" --home "$baseline_home" serve --bind 127.0.0.1:18789 >/dev/null &
  servers+=("baseline 18789")
fi
sleep 1
url() { echo "http://127.0.0.1:$1/v1/capabilities/test.echo/call"; }
curl -sf -X POST -H 'content-type: application/json' -d '{"subject":"u","input":{"a":1}}' "$(url 18787)" >/dev/null

measure() { # name port
  local out rps p50 p99
  out="$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/post.lua "$(url "$2")")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  echo "$1 $rps $p50 $p99"
}

echo "wrk -t2 -c$connections -d${duration}s, $rounds rounds alternating; $(nproc) cores shared by wrk and the server"
printf '%-12s %12s %10s %10s\n' server req/s p50 p99
for _ in $(seq "$rounds"); do
  for pair in "${servers[@]}"; do
    set -- $pair
    read -r name rps p50 p99 < <(measure "$1" "$2")
    printf '%-12s %12s %10s %10s\n' "$name" "$rps" "$p50" "$p99"
  done
done
