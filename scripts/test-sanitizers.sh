#!/usr/bin/env bash
# Builds the whole project with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and
# runs the whole ctest suite there. Untrusted input (Slack payloads, command text, facts JSON,
# config) must be safe under both: a heap overflow or a signed overflow fails CI here rather than
# reaching a user. Benchmarks are left out (they measure speed, which ASan changes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
jobs="${FLARE_BUILD_JOBS:-$(nproc)}"
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# A build type of its own: -O1 -g1 (line tables are all a sanitizer stack needs) compiles in about
# half the time of RelWithDebInfo's -O2 -g, and without NDEBUG the asserts are checked too.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DFLARE_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1 $sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
nice cmake --build build-asan -j "$jobs"
# halt_on_error: the first report fails the test. detect_leaks: LeakSanitizer too.
# Child processes (the real binary in the integration tests) inherit these.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=0}"
# tests/lsan.supp: system libraries' process-lifetime caches (fontconfig), nothing of flare's.
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd build-asan
# Sanitized code is 2-3x slower: integration tests get a longer per-test timeout.
ctest --output-on-failure -j "${FLARE_TEST_JOBS:-$(nproc)}" --timeout 600 "$@"
