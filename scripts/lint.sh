#!/usr/bin/env bash
# clang-format check and clang-tidy (rules in .clang-tidy) over the project's sources.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[[ -f build/compile_commands.json ]] || scripts/build.sh build
mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'bench/*.cc' 'bench/*.h' 'fuzz/*.cc' 'fuzz/*.h' 'test/*.h')
clang-format --dry-run --Werror "${files[@]}"
mapfile -t units < <(git ls-files 'src/*.cc' | grep -v '_test\.cc$')
printf "%s\n" "${units[@]}" | xargs -P"$(nproc)" -n4 clang-tidy -p build --quiet
