#!/usr/bin/env bash
# The main job: builds mrail, shows what it finds on this machine
# (mrail_info), then, as root, builds a 2-rail lab (two emulated hosts,
# 500 Mbit/s tc-shaped rails) and prints the rail-efficiency table: mrail,
# Open MPI and UCX over both rails against iperf3 per rail, same run. Not
# root: says so and measures two ranks over shared memory instead.
# Installing and building print one line each; their output goes to
# BUILD/run-main.log, shown when a step fails. The lab reports its progress.
#   tools/run-main.sh [--build DIR] [--stacks S] [--reps N] [SCENARIO...]
# --build: build there (default build; a configured tree is only rebuilt);
# --stacks, --reps and the scenarios (default 500mbit,500mbit) go to
# bench/lab/rail_efficiency.sh (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/lib/quiet_step.sh
QUIET_STEP_NAME=run-main
build=build opts=() scenarios=()
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --stacks|--reps) opts+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    -*) echo "run-main: unknown option $1 (valid: --build, --stacks, --reps, --help)" >&2; exit 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
mkdir -p "$build"
log=$(cd "$build" && pwd)/run-main.log
: >"$log"
echo "run-main: installing, configuring and building; their output goes to $log"
quiet_step "$log" "Debian packages (tools/setup-debian.sh --bench)" tools/setup-debian.sh --bench
if [ ! -f "$build/CMakeCache.txt" ]; then
  quiet_step "$log" "configure ($build)" cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
quiet_step "$log" "build ($build)" cmake --build "$build" -j "$(nproc)"
echo
"$build/bin/mrail_info"
echo
if [ "$(id -u)" -ne 0 ]; then
  echo "run-main: not root, so no multi-rail lab (network namespaces and tc need root);"
  echo "run-main: measuring two ranks over shared memory instead (sudo tools/run-main.sh for the lab)."
  exec "$build/bin/mrun" -n 2 --mca btl self,sm "$build/bin/btl_bench"
fi
[ ${#scenarios[@]} -gt 0 ] || scenarios=(500mbit,500mbit)
echo "run-main: multi-rail lab: stacks against iperf3 on each rail (a minute or two; progress below)"
exec bench/lab/rail_efficiency.sh --build "$build" --progress "${opts[@]+"${opts[@]}"}" "${scenarios[@]}"
