#!/usr/bin/env bash
# Builds and runs every test: the release build's test suite, the same suite under
# AddressSanitizer + UndefinedBehaviorSanitizer, and a short run of every parser fuzzer (the
# last two from one clang build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh"

echo "== release build and tests" >&2
scripts/build.sh build
ctest --test-dir build --output-on-failure -j"$(nproc)" | tee build/ctest.log

# One clang build serves the sanitised test suite and the fuzzers: ASan + UBSan everywhere, and
# libFuzzer's coverage instrumentation, which the tests do not notice (scripts/fuzz.sh).
echo "== AddressSanitizer + UBSan build (clang) and tests" >&2
export SENTINEL_FUZZ_BUILD="$root/build-asan"
scripts/fuzz.sh --build-only
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)" | tee build-asan/ctest.log

echo "== fuzzers (${SENTINEL_FUZZ_SECONDS:-20} s each)" >&2
scripts/fuzz.sh "${SENTINEL_FUZZ_SECONDS:-20}"

echo "== clang-format and clang-tidy" >&2
scripts/lint.sh

# One closing line for both suites (set -e and pipefail stopped the script on any failure).
total=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' build/ctest.log build-asan/ctest.log |
  awk '{ n += $1 } END { print n + 0 }')
echo "tests: ${total} passed, 0 failed"
