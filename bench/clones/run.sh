#!/usr/bin/env bash
# Code clone detection, side by side: selfup's scanner against jscpd 5, jscpd 4 and
# pylint's duplicate-code checker, on the same real corpora, in one run.
#
#   bench/clones/run.sh [options]
#
#   --prepare-only        fetch the tools and build the corpora, run nothing
#   --skip-selfup         leave selfup out (it is also left out, with a note, when
#                         `selfup patterns scan` does not work yet)
#   --skip-pylint         leave pylint out (about 1.5 minutes per Django corpus)
#   --skip-jscpd4         leave jscpd 4 out (about 35 s per Django corpus)
#   --pylint-timeout S    time limit of one pylint run (default 1800)
#   --timeout S           time limit of any other run (default 600)
#   --repeat N            timed runs of selfup and jscpd 5 per corpus, median kept (default 3)
#   --count N             injected clones (default 150, a third of each type)
#   --seed S              seed of the injection (default 6)
#   --corpora LIST        among django,django-injected,million (default: all three)
#   --results DIR         where raw outputs go (default: CACHE/results/DATE)
#
# Everything downloaded or built lives in ${SELFUP_BENCH_CACHE:-$HOME/.cache/selfup-bench};
# only registries are used: PyPI (Django, pylint), npm (jscpd, eslint, effect),
# crates.io (tokio, syn and their dependencies, through cargo), Debian (node, time,
# python3-venv when missing). Downloads are checked against pinned SHA-256 sums
# (cargo checks the crates against Cargo.lock). The table goes to
# bench/clones/results.md and RESULTS/results.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SELFUP_BENCH_CACHE:-$HOME/.cache/selfup-bench}"

DJANGO_VERSION=5.1.15
DJANGO_SHA256=46a356b5ff867bece73fc6365e081f21c569973403ee7e9b9a0316f27d0eb947
ESLINT_VERSION=10.15.0
ESLINT_SHA256=8cb5e45fb5b1174e4216d546b69d37c0ac5cb5d9ba8342946a04af1f59605edb
EFFECT_VERSION=3.19.0
EFFECT_SHA256=e2835a391529928bfcad35c500bc66cba19ceb2733deeb0ea8711cfdb14b4db1
JSCPD5_VERSION=5.3.3
JSCPD4_VERSION=4.3.0
PYLINT_VERSION=4.1.4

orig_args="$*"
prepare_only=0 skip_selfup=0 skip_pylint=0 skip_jscpd4=0
pylint_timeout=1800 timeout_s=600 repeat=3 count=150 seed=6
corpora="django,django-injected,million"
results=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare-only) prepare_only=1 ;;
    --skip-selfup) skip_selfup=1 ;;
    --skip-pylint) skip_pylint=1 ;;
    --skip-jscpd4) skip_jscpd4=1 ;;
    --pylint-timeout) pylint_timeout="$2"; shift ;;
    --timeout) timeout_s="$2"; shift ;;
    --repeat) repeat="$2"; shift ;;
    --count) count="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --corpora) corpora="$2"; shift ;;
    --results) results="$2"; shift ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ prerequisites

apt_install() { # packages...: Debian packages, when we may install them
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: $*"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    return 1
  fi
}

need() { # command debian-package
  command -v "$1" >/dev/null && return 0
  apt_install "$2" || die "$1 is missing: install it (Debian: apt-get install $2)"
  command -v "$1" >/dev/null || die "$1 is still missing after apt-get install $2"
}

need python3 python3
need node nodejs
need npm npm
need cargo cargo
need tar tar
need sha256sum coreutils
need timeout coreutils
[ -x /usr/bin/time ] || apt_install time || die "/usr/bin/time is missing: apt-get install time"
[ -x /usr/bin/time ] || die "/usr/bin/time is still missing after apt-get install time"

mkdir -p "$cache/dl" "$cache/tools" "$cache/corpus" "$cache/build"

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# ------------------------------------------------------------------ tools

venv="$cache/tools/pylint-venv"
if ! "$venv/bin/python" -c 'import sys' 2>/dev/null || ! "$venv/bin/pip" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt_install python3-venv || die "python3 -m venv failed: install python3-venv (Debian: apt-get install python3-venv)"
    python3 -m venv "$venv" || die "python3 -m venv failed even with python3-venv"
  fi
fi
if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("pylint"))' 2>/dev/null)" != "$PYLINT_VERSION" ]; then
  say "installing pylint $PYLINT_VERSION from PyPI"
  "$venv/bin/pip" install -q "pylint==$PYLINT_VERSION" || die "pip install pylint==$PYLINT_VERSION failed (PyPI)"
fi
pylint="$venv/bin/pylint"

npm_tool() { # dir package@version
  local dir="$1" spec="$2"
  if [ ! -f "$dir/.installed" ] || [ "$(cat "$dir/.installed")" != "$spec" ]; then
    say "installing $spec from npm"
    rm -rf "$dir"; mkdir -p "$dir"
    (cd "$dir" && npm install --prefix . --no-audit --no-fund --no-save --loglevel=error "$spec" >/dev/null) \
      || die "npm install $spec failed (npm registry)"
    echo "$spec" >"$dir/.installed"
  fi
}
npm_tool "$cache/tools/jscpd5" "jscpd@$JSCPD5_VERSION"
npm_tool "$cache/tools/jscpd4" "jscpd@$JSCPD4_VERSION"
case "$(uname -m)" in
  x86_64) j5pkg=jscpd-linux-x64-gnu ;;
  aarch64) j5pkg=jscpd-linux-arm64-gnu ;;
  *) die "jscpd $JSCPD5_VERSION ships no binary for $(uname -m)" ;;
esac
# jscpd 5's `jscpd` command is a node script that spawns this Rust binary; we time the binary.
jscpd5="$cache/tools/jscpd5/node_modules/$j5pkg/bin/jscpd"
[ -x "$jscpd5" ] || die "jscpd 5 binary missing at $jscpd5: npm did not install $j5pkg@$JSCPD5_VERSION (rm -rf $cache/tools/jscpd5 and retry)"
"$jscpd5" --version | grep -q "$JSCPD5_VERSION" || die "$jscpd5 is not jscpd $JSCPD5_VERSION"
jscpd4="$cache/tools/jscpd4/node_modules/jscpd/bin/jscpd"
[ -f "$jscpd4" ] || die "jscpd 4 missing at $jscpd4"
[ "$(node "$jscpd4" --version)" = "$JSCPD4_VERSION" ] || die "$jscpd4 is not jscpd $JSCPD4_VERSION"

# ------------------------------------------------------------------ downloads

fetch_pypi_sdist() { # name version sha256 -> path
  local name="$1" version="$2" sha="$3" lower f
  lower="$(echo "$name" | tr 'A-Z' 'a-z')"
  f="$cache/dl/$lower-$version.tar.gz"
  if ! sha_ok "$f" "$sha"; then
    say "downloading $name $version (sdist) from PyPI"
    rm -f "$f"
    "$venv/bin/pip" download -q --no-deps --no-binary :all: "$name==$version" -d "$cache/dl" >/dev/null \
      || die "pip download $name==$version failed (PyPI)"
    sha_ok "$f" "$sha" || die "$f: SHA-256 is not the pinned $sha"
  fi
  echo "$f"
}

fetch_npm_tarball() { # name version sha256 -> path
  local name="$1" version="$2" sha="$3" f
  f="$cache/dl/$name-$version.tgz"
  if ! sha_ok "$f" "$sha"; then
    say "downloading $name@$version from npm"
    rm -f "$f"
    (cd "$cache/dl" && npm pack --silent "$name@$version" >/dev/null) || die "npm pack $name@$version failed (npm registry)"
    sha_ok "$f" "$sha" || die "$f: SHA-256 is not the pinned $sha"
  fi
  echo "$f"
}

django_tgz="$(fetch_pypi_sdist Django "$DJANGO_VERSION" "$DJANGO_SHA256")"
eslint_tgz="$(fetch_npm_tarball eslint "$ESLINT_VERSION" "$ESLINT_SHA256")"
effect_tgz="$(fetch_npm_tarball effect "$EFFECT_VERSION" "$EFFECT_SHA256")"

rust_build="$cache/build/rust"
if ! cmp -s "$here/rust-corpus/Cargo.lock" "$rust_build/Cargo.lock" || [ ! -f "$rust_build/vendor/.done" ]; then
  say "vendoring the Rust sources from crates.io (cargo vendor --locked)"
  rm -rf "$rust_build"; mkdir -p "$rust_build"
  cp "$here/rust-corpus/Cargo.toml" "$here/rust-corpus/Cargo.lock" "$here/rust-corpus/lib.rs" "$rust_build/"
  (cd "$rust_build" && cargo vendor --locked --versioned-dirs vendor >/dev/null 2>vendor.log) \
    || die "cargo vendor failed (crates.io); see $rust_build/vendor.log"
  touch "$rust_build/vendor/.done"
fi

# ------------------------------------------------------------------ corpora

src_find() { # dir -> the source files the scanners read
  find "$1" -type f \( -name '*.py' -o -name '*.js' -o -name '*.mjs' -o -name '*.cjs' \
    -o -name '*.ts' -o -name '*.tsx' -o -name '*.mts' -o -name '*.cts' -o -name '*.rs' \) -print0
}
count_lines() { src_find "$1" | xargs -0 cat | wc -l; }
count_files() { src_find "$1" | tr -cd '\0' | wc -c; }

# build_corpus name key command...: (re)builds $cache/corpus/name when key changes
build_corpus() {
  local name="$1" key="$2"; shift 2
  local dir="$cache/corpus/$name"
  if [ -f "$dir.stamp" ] && [ "$(cat "$dir.stamp")" = "$key" ] && [ -d "$dir" ]; then
    return 0
  fi
  say "building corpus $name"
  rm -rf "$dir" "$dir.tmp" "$dir.stamp"
  "$@" "$dir.tmp"
  mv "$dir.tmp" "$dir"
  echo "$key" >"$dir.stamp"
}

make_django() { # dest: the Python files of the Django sdist
  mkdir -p "$1"
  tar -xzf "$django_tgz" -C "$1" --strip-components=1 --wildcards '*.py'
}
make_injected() { # dest
  python3 "$here/inject.py" "$cache/corpus/django" "$1" "$cache/corpus/django-injected.truth.json" \
    --count "$count" --seed "$seed" >&2
}
copy_sources() { # from to: the source files only, same layout
  (cd "$1" && src_find . | tar --null -T - -cf -) | (mkdir -p "$2" && cd "$2" && tar -xf -)
}
make_million() { # dest: Django's Python, eslint's JavaScript, effect's TypeScript, tokio and syn's Rust
  local t; t="$(mktemp -d)"
  mkdir -p "$1"
  copy_sources "$cache/corpus/django" "$1/django"
  mkdir -p "$t/eslint" "$t/effect"
  tar -xzf "$eslint_tgz" -C "$t/eslint" --strip-components=1
  copy_sources "$t/eslint" "$1/eslint"
  tar -xzf "$effect_tgz" -C "$t/effect" --strip-components=1
  copy_sources "$t/effect/src" "$1/effect-src"   # TypeScript sources; dist/ is generated JavaScript
  copy_sources "$rust_build/vendor" "$1/rust"
  rm -rf "$t"
}

inject_key="$(sha256sum "$here/inject.py" | cut -c1-16) count=$count seed=$seed $(python3 -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
build_corpus django "django-$DJANGO_VERSION-$DJANGO_SHA256 py-only" make_django
build_corpus django-injected "$(cat "$cache/corpus/django.stamp") | $inject_key" make_injected
build_corpus million "$(cat "$cache/corpus/django.stamp") eslint-$ESLINT_VERSION effect-$EFFECT_VERSION $(sha256sum "$here/rust-corpus/Cargo.lock" | cut -c1-16)" make_million
truth="$cache/corpus/django-injected.truth.json"

for c in django django-injected million; do
  say "corpus $c: $(count_files "$cache/corpus/$c") files, $(count_lines "$cache/corpus/$c") lines"
done
[ "$prepare_only" = 1 ] && { say "prepared; --prepare-only: nothing run"; exit 0; }

# ------------------------------------------------------------------ selfup

selfup=""
selfup_note=""
bench_config="$cache/build/selfup-bench.yaml"
selfup_home="$cache/build/selfup-home"   # a home of its own, so the user's store is left alone
rm -rf "$selfup_home"; mkdir -p "$selfup_home"
cat >"$bench_config" <<'EOF'
# selfup settings for bench/clones: scan everything given, jscpd's minimum size
self_upgrading_loop:
  discovery:
    pattern_recognition:
      exclude_patterns: []
      min_clone_tokens: 50
EOF
if [ "$skip_selfup" = 0 ]; then
  say "building selfup (cargo build --release -p selfup)"
  if (cd "$repo" && cargo build --release -q -p selfup) >&2; then
    selfup="${CARGO_TARGET_DIR:-$repo/target}/release/selfup"
    probe="$(mktemp -d)"
    printf 'def f(a):\n    return a + 1\n' >"$probe/a.py"
    if out="$("$selfup" --home "$selfup_home" --config "$bench_config" patterns scan "$probe" --json 2>&1)" \
      && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert "patterns" in d' "$out" 2>/dev/null; then
      :
    else
      selfup_note="selfup patterns scan does not work yet: $(echo "$out" | tail -1)"
      selfup=""
    fi
    rm -rf "$probe"
  else
    selfup_note="cargo build --release -p selfup failed"
  fi
else
  selfup_note="left out (--skip-selfup)"
fi
[ -n "$selfup_note" ] && say "selfup: $selfup_note"

# ------------------------------------------------------------------ runs

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
results="${results:-$cache/results/$stamp}"
mkdir -p "$results"
rm -f "$results"/*.result.json "$results"/*.time.*
export NO_COLOR=1 JSCPD_NO_TIPS=1

formats_of() { # corpus -> jscpd formats
  case "$1" in
    million) echo python,javascript,typescript,rust ;;
    *) echo python ;;
  esac
}

# timed label i limit cmd...: one timed run of cmd (in the current directory), outputs to $results/label.*
# prints "ok" or why not
timed() {
  local label="$1" i="$2" limit="$3"; shift 3
  local rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$results/$label.time.$i" \
    timeout "$limit" "$@" >"$results/$label.stdout" 2>"$results/$label.stderr" || rc=$?
  if [ "$rc" = 124 ]; then echo "timed out after $limit s"; else echo ok; fi
}

score() { # label tool format output corpus settings status
  local label="$1" tool="$2" format="$3" output="$4" corpus="$5" settings="$6" status="$7"
  local args=(score --tool "$tool" --format "$format" --output "$output" --root "$cache/corpus/$corpus"
    --corpus "$corpus" --lines "$(count_lines "$cache/corpus/$corpus")" --settings "${settings% }"
    --result "$results/$label.result.json")
  [ "$status" != ok ] && args+=(--status "$status")
  [ "$corpus" = django-injected ] && args+=(--truth "$truth")
  local t; for t in "$results/$label".time.*; do [ -f "$t" ] && args+=(--time "$t"); done
  python3 "$here/score.py" "${args[@]}"
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
jscpd_common=(--min-tokens 50 --min-lines 5 --max-size 10mb --mode weak)
IFS=',' read -r -a corpus_list <<<"$corpora"
for corpus in "${corpus_list[@]}"; do
  root="$cache/corpus/$corpus"
  [ -d "$root" ] || die "unknown corpus $corpus"
  fmt="$(formats_of "$corpus")"
  say "corpus $corpus (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  cd "$root"

  # The fast tools, interleaved run by run so a busy moment falls on all of them alike.
  declare -A cmd_of=() tool_of=() format_of=() output_of=() settings_of=() status_of=()
  fast=()
  if [ -n "$selfup" ]; then
    l="selfup.$corpus"; fast+=("$l")
    tool_of[$l]=selfup; format_of[$l]=selfup; output_of[$l]="$results/$l.stdout"
    settings_of[$l]="selfup --config (min_clone_tokens: 50, exclude_patterns: []) patterns scan ROOT --json"
    cmd_of[$l]="$(printf '%q ' "$selfup" --home "$selfup_home" --config "$bench_config" patterns scan "$root" --json)"
  fi
  for variant in exact renamed near-miss; do
    case "$variant" in
      exact) extra="" ;;
      renamed) extra="--ignore-identifiers --ignore-literals" ;;
      near-miss) extra="--ignore-identifiers --ignore-literals --max-gap-lines 3" ;;
    esac
    l="jscpd5-$variant.$corpus"; fast+=("$l")
    rm -rf "$results/$l.report"
    tool_of[$l]="jscpd5 $variant"; format_of[$l]=jscpd; output_of[$l]="$results/$l.report/jscpd-report.json"
    settings_of[$l]="--format $fmt ${jscpd_common[*]}${extra:+ $extra}"
    cmd_of[$l]="$(printf '%q ' "$jscpd5" --format "$fmt" "${jscpd_common[@]}") $extra --reporters json --output $(printf '%q' "$results/$l.report") --silent ."
  done
  for i in $(seq "$repeat"); do
    for l in "${fast[@]}"; do
      [ "${status_of[$l]:-ok}" = ok ] || continue
      status_of[$l]="$(eval "timed $(printf '%q' "$l") $i $timeout_s ${cmd_of[$l]}")"
    done
  done
  for l in "${fast[@]}"; do
    score "$l" "${tool_of[$l]}" "${format_of[$l]}" "${output_of[$l]}" "$corpus" "${settings_of[$l]}" "${status_of[$l]}"
  done

  if [ "$skip_jscpd4" = 0 ]; then
    l="jscpd4.$corpus"
    rm -rf "$results/$l.report"
    j4=(--format "$fmt" "${jscpd_common[@]}" --max-lines 1000000)
    s="$(timed "$l" 1 "$timeout_s" node "$jscpd4" "${j4[@]}" --reporters json --output "$results/$l.report" --silent .)"
    score "$l" jscpd4 jscpd "$results/$l.report/jscpd-report.json" "$corpus" "${j4[*]}" "$s"
  fi

  if [ "$skip_pylint" = 0 ] && [ "$corpus" != million ]; then
    l="pylint.$corpus"
    py=(--disable=all --enable=duplicate-code --min-similarity-lines=5 --recursive=y)
    s="$(timed "$l" 1 "$pylint_timeout" "$pylint" "${py[@]}" --output-format=json2 .)"
    score "$l" pylint pylint "$results/$l.stdout" "$corpus" "${py[*]}" "$s"
  fi
done
cd "$repo"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------------ report

header="$results/header.md"
{
  echo "Date: $(date -u '+%a %b %d %H:%M UTC %Y'). Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB."
  echo "Load average before the runs: $load_before; after: $load_after."
  echo "Command: \`bench/clones/run.sh${orig_args:+ $orig_args}\` (raw outputs: \`$results\`)."
  echo
  echo "Tools: selfup $(cd "$repo" && git rev-parse --short HEAD)$(cd "$repo" && { git diff --quiet HEAD -- crates Cargo.lock && [ -z "$(git ls-files --others --exclude-standard crates)" ]; } || echo ' with uncommitted changes in crates/')$( [ -n "$selfup_note" ] && echo " ($selfup_note)"), jscpd $JSCPD5_VERSION (Rust binary of $j5pkg), jscpd $JSCPD4_VERSION (node $(node --version)), pylint $PYLINT_VERSION (Python $("$venv/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'))."
  echo "Wall and CPU time are the median of $repeat runs for selfup and jscpd 5 (interleaved), one run for jscpd 4 and pylint; peak is the largest resident set of one process."
  echo
  echo "Corpora (lines: every line of the .py/.js/.mjs/.cjs/.ts/.tsx/.rs files):"
  echo "- django: the $(count_files "$cache/corpus/django") Python files of the Django $DJANGO_VERSION sdist (PyPI), $(count_lines "$cache/corpus/django") lines."
  echo "- django-injected: the same with $(python3 -c 'import json,sys,collections; t=json.load(open(sys.argv[1])); c=collections.Counter(x["type"] for x in t); print(f"{len(t)} injected clones (type 1: {c[1]}, type 2: {c[2]}, type 3: {c[3]})")' "$truth"), seed $seed, $(count_lines "$cache/corpus/django-injected") lines."
  echo "- million: django + eslint $ESLINT_VERSION (npm, JavaScript) + effect $EFFECT_VERSION src/ (npm, TypeScript) + tokio, syn and their dependencies (crates.io, Rust), $(count_files "$cache/corpus/million") files, $(count_lines "$cache/corpus/million") lines."
  echo
} >"$header"
python3 "$here/score.py" report "$results" --header "$header" --markdown "$results/results.md" >/dev/null
cp "$results/results.md" "$here/results.md"
say "results: $results/results.md (copied to bench/clones/results.md)"
