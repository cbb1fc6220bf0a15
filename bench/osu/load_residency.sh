#!/bin/bash
# Where the ranks of a collective benchmark run while bench/osu/memload
# holds core 0: the same osu_coll program built with mrail and with Open
# MPI, 4 ranks oversubscribed on the 2 CPUs, --runs times each, in turn.
# Every 20 ms it samples the CPU each rank is on, and prints per run the
# samples on core 0 and on core 1 next to the run's average latency. It
# shows whether a slow run is the stack's or the scheduler's (ranks left
# on the loaded core).
#   bench/osu/load_residency.sh [--runs N] [--build DIR] [--op barrier|bcast|allreduce]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=5 build=build op=barrier
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --op) op=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "load_residency.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $runs in ''|*[!0-9]*|0) echo "load_residency.sh: --runs must be a positive integer, not '$runs'" >&2; exit 2 ;; esac
case $op in barrier|bcast|allreduce) ;; *) echo "load_residency.sh: --op takes barrier, bcast or allreduce, not '$op'" >&2; exit 2 ;; esac
command -v mpicc.openmpi >/dev/null && command -v taskset >/dev/null ||
  { echo "load_residency.sh: mpicc.openmpi or taskset missing (apt-get install libopenmpi-dev util-linux)" >&2; exit 1; }
[ -x "$build/bin/mpicc" ] && [ -x "$build/bin/memload" ] ||
  { echo "load_residency.sh: build mrail first (cmake --build $build): no $build/bin/mpicc or memload" >&2; exit 1; }
work=$(mktemp -d)
load_pid=""
cleanup() { [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$build/bin/mpicc" -O2 -o "$work/coll_mrail" bench/osu/osu_coll.c
mpicc.openmpi -O2 -o "$work/coll_openmpi" bench/osu/osu_coll.c 2>/dev/null
taskset -c 0 "$build/bin/memload" 2>/dev/null &
load_pid=$!
sleep 1
one() { # stack
  local prog="$work/coll_$1" c0=0 c1=0 p cpu
  case $1 in
    mrail) "$build/bin/mrun" -n 4 --oversubscribe "$prog" "$op" --min 8 --max 8 --iters 2000 >"$work/out" 2>&1 & ;;
    openmpi) mpirun.openmpi --allow-run-as-root -n 4 --oversubscribe "$prog" "$op" --min 8 --max 8 \
      --iters 2000 >"$work/out" 2>&1 & ;;
  esac
  local launcher=$!
  while kill -0 "$launcher" 2>/dev/null; do
    for p in $(pgrep -f "^$prog " || true); do
      cpu=$(ps -o psr= -p "$p" 2>/dev/null | tr -d ' ') || continue
      case $cpu in 0) c0=$((c0 + 1)) ;; 1) c1=$((c1 + 1)) ;; esac
    done
    sleep 0.02
  done
  wait "$launcher" || { echo "load_residency.sh: $1 failed: $(tail -3 "$work/out")" >&2; exit 1; }
  printf '| %s | %s | %d | %d |\n' "$1" "$(grep -v '^#' "$work/out" | tail -1 | awk '{print $2}')" "$c0" "$c1"
}
printf '| stack | %s, us per call | rank samples on core 0 (loaded) | on core 1 |\n|---|---|---|---|\n' "$op"
for _ in $(seq "$runs"); do
  one mrail
  one openmpi
done
