#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzz.cc) with clang, ASan and UBSan into build-fuzz/ and
# runs each for a while.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 60 msp_fuzz jcamp_fuzz
#   scripts/fuzz.sh --build-only              the whole tree (tests too), no fuzzing
#
# The build tree is $SENTINEL_FUZZ_BUILD (default build-fuzz/); scripts/test.sh points it at
# build-asan/, whose test suite then runs on the same objects.
# SECONDS per target, default 60; TARGET defaults to every fuzz/*_fuzz.cc. For target X_fuzz the
# seeds are fuzz/corpus/X/ (read, never written) and the dictionary fuzz/X.dict when present.
# New inputs go to build-fuzz/corpus/X/ and crash reproducers to build-fuzz/artifacts/; a
# reproducer is re-run with: build-fuzz/X_fuzz build-fuzz/artifacts/X_fuzz-crash-...
# Exits non-zero if any target fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SENTINEL_FUZZ_BUILD:-${root}/build-fuzz}"
build_only=false
if [[ "${1:-}" == "--build-only" ]]; then
  build_only=true
  shift
fi
seconds="${1:-60}"
shift || true
jobs="${FUZZ_BUILD_JOBS:-2}"

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  targets=()
  for src in "${root}"/fuzz/*_fuzz.cc; do
    targets+=("$(basename "${src}" .cc)")
  done
fi

# SENTINEL_FUZZ adds -fsanitize=fuzzer-no-link to every target, so the libraries carry the
# coverage feedback libFuzzer steers by, and builds the fuzz executables with libFuzzer's main.
cmake -S "${root}" -B "${build}" \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSENTINEL_FUZZ=ON -DSENTINEL_BENCH=OFF -DSENTINEL_SANITIZE=ON >/dev/null
if [[ "${build_only}" == true ]]; then
  cmake --build "${build}" -j"${jobs}"
  exit 0
fi
cmake --build "${build}" -j"${jobs}" --target "${targets[@]}"

mkdir -p "${build}/artifacts"
# Leaks inside third-party libraries (documented one by one in fuzz/lsan.supp) are not ours.
export LSAN_OPTIONS="suppressions=${root}/fuzz/lsan.supp${LSAN_OPTIONS:+:${LSAN_OPTIONS}}"
status=0
for target in "${targets[@]}"; do
  name="${target%_fuzz}"
  work="${build}/corpus/${name}"
  mkdir -p "${work}"
  args=(-max_total_time="${seconds}" -print_final_stats=1
        -artifact_prefix="${build}/artifacts/${target}-")
  [[ -f "${root}/fuzz/${name}.dict" ]] && args+=(-dict="${root}/fuzz/${name}.dict")
  corpora=("${work}")
  [[ -d "${root}/fuzz/corpus/${name}" ]] && corpora+=("${root}/fuzz/corpus/${name}")
  echo "=== ${target}: ${seconds} s"
  rc=0
  "${build}/${target}" "${args[@]}" "${corpora[@]}" >"${build}/${target}.log" 2>&1 || rc=$?
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY|invariant violated)' \
    "${build}/${target}.log" || true
  if [[ "${rc}" -ne 0 ]]; then
    echo "*** ${target} failed (exit ${rc}); full log: ${build}/${target}.log" >&2
    status=1
  fi
done
exit "${status}"
