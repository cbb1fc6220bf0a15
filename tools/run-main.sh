#!/usr/bin/env bash
# The main job. Until the multi-rail benchmarks exist it builds mrail and
# shows what it finds on this machine: every framework, component, module
# and parameter (mrail_info --all).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
exec build/bin/mrail_info --all "$@"
