#!/usr/bin/env bash
# The main job: builds mrail, shows what it finds on this machine
# (mrail_info), then, as root, builds a 2-rail lab (two emulated hosts,
# 500 Mbit/s tc-shaped rails) and prints the rail-efficiency table: mrail,
# Open MPI and UCX over both rails against iperf3 per rail, same run. Not
# root: says so and measures two ranks over shared memory instead.
#   tools/run-main.sh [SCENARIO...]   (default 500mbit,500mbit; see bench/lab/rail_efficiency.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in -h|--help) sed -n '2,7p' "$0"; exit 0 ;; esac
tools/setup-debian.sh --bench
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
build/bin/mrail_info
echo
if [ "$(id -u)" -ne 0 ]; then
  echo "run-main: not root, so no multi-rail lab (network namespaces and tc need root);"
  echo "run-main: measuring two ranks over shared memory instead (sudo tools/run-main.sh for the lab)."
  exec build/bin/mrun -n 2 --mca btl self,sm build/bin/btl_bench
fi
[ $# -gt 0 ] || set -- 500mbit,500mbit
echo "run-main: multi-rail lab, rails $*: mrail, Open MPI and UCX against iperf3 (takes a minute or two)"
exec bench/lab/rail_efficiency.sh "$@"
