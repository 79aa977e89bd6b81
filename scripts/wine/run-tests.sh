#!/usr/bin/env bash
# Builds the workspace's tests for Windows (x86_64-pc-windows-gnu) and runs
# every test executable under Wine; CI runs it after the Linux tests.
#
#   scripts/wine/run-tests.sh [FILTER…]   FILTERs go to every test harness
#
# Needs the rustup target x86_64-pc-windows-gnu and Debian's mingw-w64 and
# wine packages. Honours CARGO_TARGET_DIR; WINEPREFIX defaults to
# <target dir>/wineprefix, created on first use and reused; WINE_TEST_TIMEOUT
# (seconds, default 900) bounds each test executable.
#
# Wine 8 lacks ProcessPrng (bcryptprimitives.dll), which Rust's standard
# library calls for randomness: a one-function shim built here with mingw
# forwards it to BCryptGenRandom and goes into the prefix's system32 (built
# again only when its source changes).
#
# Each executable runs with --test-threads=1 in its package's directory, as
# cargo test would; its output goes to <target dir>/wine-tests/<name>.log
# and a failure prints the failing tests and the log's tail. Exit status 1
# if any executable failed, timed out or ended without a test summary.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
triple=x86_64-pc-windows-gnu
timeout_s="${WINE_TEST_TIMEOUT:-900}"
export WINEPREFIX="${WINEPREFIX:-$target_dir/wineprefix}" WINEDEBUG=-all

missing=()
command -v wine >/dev/null || missing+=("wine (apt-get install wine)")
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("x86_64-w64-mingw32-gcc (apt-get install mingw-w64)")
rustup target list --installed 2>/dev/null | grep -qx "$triple" ||
  missing+=("the Rust target (rustup target add $triple)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'run-tests.sh: missing %s\n' "${missing[@]}" >&2
  exit 2
fi

# The shim, rebuilt only when its source is newer.
shim="$target_dir/wine-shim/bcryptprimitives.dll"
mkdir -p "$(dirname "$shim")"
if [ ! -f "$shim" ] || [ scripts/wine/bcryptprimitives.c -nt "$shim" ] ||
  [ scripts/wine/bcryptprimitives.def -nt "$shim" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$shim" scripts/wine/bcryptprimitives.c \
    scripts/wine/bcryptprimitives.def -lbcrypt
fi

# The prefix, made once (without the Mono and Gecko installers, which
# would ask through a window), then the shim in its system32.
system32="$WINEPREFIX/drive_c/windows/system32"
if [ ! -d "$system32" ]; then
  echo "creating the Wine prefix $WINEPREFIX"
  WINEDLLOVERRIDES="mscoree,mshtml=" wineboot -i >/dev/null 2>&1
  wineserver -w
fi
cmp -s "$shim" "$system32/bcryptprimitives.dll" || cp "$shim" "$system32/"

# The example plugins the end-to-end tests install (target/plugins).
[ -f target/plugins/test-echo-1.0.0.zip ] || cargo xtask plugins

# Build, and list the test harnesses: (executable, package directory) of
# every artifact built with the test profile; not the plain binaries.
logs="$target_dir/wine-tests"
mkdir -p "$logs"
cargo test --no-run --target "$triple" --workspace --message-format=json-render-diagnostics \
  >"$logs/build.json"
mapfile -t harnesses < <(python3 -c '
import json, os, sys
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"] + "\t" + os.path.dirname(m["manifest_path"]))
' "$logs/build.json" | sort -u)
if [ ${#harnesses[@]} -eq 0 ]; then
  echo "run-tests.sh: cargo built no test executables (see $logs/build.json)" >&2
  exit 1
fi

binaries=0 passed=0 failed=0 broken=()
for entry in "${harnesses[@]}"; do
  exe="${entry%%$'\t'*}" dir="${entry#*$'\t'}"
  hashed="$(basename "$exe" .exe)"
  name="$(basename "$dir")/${hashed%-*}"
  log="$logs/${name//\//.}.log"
  binaries=$((binaries + 1))
  rc=0 started=$SECONDS
  (cd "$dir" && timeout --kill-after=30 "$timeout_s" wine "$exe" --test-threads=1 "$@") \
    >"$log" 2>&1 </dev/null || rc=$?
  result="$(grep -a "^test result:" "$log" | tail -1 || true)"
  p="$(sed -n 's/.* \([0-9][0-9]*\) passed.*/\1/p' <<<"$result")"
  f="$(sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p' <<<"$result")"
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "TIMEOUT $name after ${timeout_s}s (log: $log)"
    broken+=("$name (timeout)")
  elif [ "$rc" -ne 0 ] || [ -z "$result" ]; then
    echo "FAILED  $name rc=$rc ${result:-no test summary} (log: $log)"
    grep -a -E "^test .* FAILED$|^---- .* stdout ----$" "$log" | sed 's/^/    /' || true
    tail -n 40 "$log" | sed 's/^/    | /'
    broken+=("$name")
  else
    echo "ok      $name ($((SECONDS - started))s): ${result#test result: ok. }"
  fi
done

echo "wine tests: ${SECONDS}s, $binaries binaries, $passed passed, $failed failed, ${#broken[@]} binaries failing${broken:+: ${broken[*]}}"
[ ${#broken[@]} -eq 0 ]
