#!/usr/bin/env bash
# The main job. Until the multi-rail lab exists (tcp issue) it builds mrail,
# shows what it finds on this machine (mrail_info) and measures the
# bandwidth it moves between two ranks over shared memory, next to memcpy.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
build/bin/mrail_info
echo
exec build/bin/mrun -n 2 --mca btl self,sm build/bin/btl_bench "$@"
