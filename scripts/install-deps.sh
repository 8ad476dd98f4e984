#!/usr/bin/env bash
# Installs every Debian 12 package Sentinel's build, tests, benchmarks and fuzzers need.
# Idempotent and quick when everything is present; must run as root when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  clang libclang-rt-14-dev            # libFuzzer and sanitizer runtimes
  clang-format clang-tidy
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libxxhash-dev
  # Chemistry: RDKit's headers include Boost's, which librdkit-dev does not pull in; Debian's
  # RDKit has no InChI, so the IUPAC library comes separately.
  librdkit-dev rdkit-data libboost-dev libboost-serialization-dev libboost-system-dev
  libboost-iostreams-dev libinchi-dev
  libeigen3-dev                       # small least-squares solves of the detectors' GLM fits
  libjemalloc-dev                     # allocator for the executables (see CMakeLists.txt)
  # Reports: the embedded store, the HTTP API, token hashing; PostgreSQL for larger nodes;
  # wrk drives the HTTP benchmark.
  libsqlite3-dev libcpp-httplib-dev libsodium-dev libpq-dev libpqxx-dev postgresql-15 wrk
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
