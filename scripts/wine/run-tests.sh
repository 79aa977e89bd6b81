#!/usr/bin/env bash
# Runs the workspace's Windows test executables under Wine (groundwork for
# issue 9; not yet part of .ci/run). Needs: the x86_64-pc-windows-gnu rustup
# target, Debian's mingw-w64 and wine packages.
#
#   scripts/wine/run-tests.sh            build the tests for Windows, then run them
#
# Wine 8 lacks ProcessPrng (bcryptprimitives.dll), which Rust's standard
# library calls for randomness: a one-function shim built here with mingw
# forwards it to BCryptGenRandom and goes into the Wine prefix's system32.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export WINEPREFIX="${WINEPREFIX:-$root/target/wineprefix}" WINEDEBUG=-all
shim="$root/target/wine-shim/bcryptprimitives.dll"
mkdir -p "$(dirname "$shim")"
x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" scripts/wine/bcryptprimitives.c \
  scripts/wine/bcryptprimitives.def -lbcrypt
[ -d "$WINEPREFIX/drive_c/windows/system32" ] || wineboot -i >/dev/null 2>&1
cp "$shim" "$WINEPREFIX/drive_c/windows/system32/"
cargo test --no-run --target x86_64-pc-windows-gnu --workspace
dir="${CARGO_TARGET_DIR:-$root/target}/x86_64-pc-windows-gnu/debug/deps"
# The newest executable of each test binary.
for exe in $(ls -t "$dir"/*.exe | awk -F/ '{n=$NF; sub(/-[0-9a-f]+\.exe$/,"",n); if(!seen[n]++) print}'); do
  out=$(timeout 300 wine "$exe" --test-threads=1 2>&1) && rc=0 || rc=$?
  result=$(printf '%s\n' "$out" | grep "test result" | tail -1 || true)
  echo "$(basename "$exe") rc=$rc ${result:-$(printf '%s\n' "$out" | tail -1 | cut -c1-160)}"
done
