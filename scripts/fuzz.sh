#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan) into build-fuzz/, replays
# every committed seed and regression input once (a crash that was fixed stays fixed), then fuzzes
# each target for FLARE_FUZZ_SECONDS seconds (default 60). New inputs found go to
# build-fuzz/corpus/ (not the repository); a crash leaves its input in build-fuzz/artifacts/ and
# fails the script. Usage: scripts/fuzz.sh [target ...]   (default: all five)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
jobs="${FLARE_BUILD_JOBS:-$(nproc)}"
seconds="${FLARE_FUZZ_SECONDS:-60}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DFLARE_FUZZ=ON -DFLARE_BUILD_TESTS=OFF -DFLARE_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" >/dev/null
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(envelope grammar facts_json config intake_text)
cmake --build build-fuzz -j "$jobs" --target "${targets[@]/%/_fuzz}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p build-fuzz/artifacts
for t in "${targets[@]}"; do
  bin="build-fuzz/tests/fuzz/${t}_fuzz"
  seeds="tests/fuzz/corpus/$t"
  found="build-fuzz/corpus/$t"
  mkdir -p "$found"
  # Replay: each regression input and seed once, with no length limit.
  replay=("$seeds"/*)
  [ -d "tests/fuzz/regressions/$t" ] && replay+=("tests/fuzz/regressions/$t"/*)
  echo "fuzz: $t: replaying ${#replay[@]} committed input(s)"
  "$bin" -rss_limit_mb=4096 -timeout=30 "${replay[@]}" >"build-fuzz/$t.replay.log" 2>&1 ||
    { cat "build-fuzz/$t.replay.log"; echo "fuzz: $t: a committed input fails" >&2; exit 1; }
  # Fuzz: inputs up to 64 KiB (frames and texts that size reach every branch; the size and depth
  # limits themselves are covered by the regression inputs above).
  echo "fuzz: $t: ${seconds} s"
  "$bin" "$found" "$seeds" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=4096 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$t-" >"build-fuzz/$t.log" 2>&1 ||
    { tail -60 "build-fuzz/$t.log"; echo "fuzz: $t: crashed; input in build-fuzz/artifacts/" >&2; exit 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/$t.log" | sed "s/^/fuzz: $t: /"
done
