#!/usr/bin/env bash
# Launch time of a trivial PMIx job (init, fence, finalize) of N ranks under
# mrun and under Open MPI's mpirun, interleaved in one run; prints the
# medians and their ratio, and with --write updates docs/PERFORMANCE.md.
#   bench/launch/launch_time.sh [-n RANKS] [-r REPEATS] [--build DIR] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
ranks=16 repeats=9 build=build write=0
while [ $# -gt 0 ]; do
  case $1 in
    -n) ranks=$2; shift 2 ;;
    -r) repeats=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "launch_time.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$repeats" -ge 5 ] || { echo "launch_time.sh: -r must be at least 5 for a median" >&2; exit 2; }
hello=$build/bin/pmix_hello
mrun=$build/bin/mrun
ompi=$(command -v mpirun.openmpi) || { echo "launch_time.sh: mpirun.openmpi not found (apt-get install openmpi-bin)" >&2; exit 1; }
[ -x "$hello" ] && [ -x "$mrun" ] || { echo "launch_time.sh: build first (cmake --build $build)" >&2; exit 1; }

time_one() { # prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

mrun_cmd=("$mrun" -n "$ranks" --oversubscribe "$hello")
ompi_cmd=("$ompi" --allow-run-as-root --oversubscribe -n "$ranks" "$hello")
"${mrun_cmd[@]}" >/dev/null; "${ompi_cmd[@]}" >/dev/null # warm the page cache
m=() o=()
for _ in $(seq "$repeats"); do
  m+=("$(time_one "${mrun_cmd[@]}")")
  o+=("$(time_one "${ompi_cmd[@]}")")
done
mm=$(printf '%s\n' "${m[@]}" | median)
om=$(printf '%s\n' "${o[@]}" | median)
ratio=$(awk -v a="$mm" -v b="$om" 'BEGIN { print a / b }')
ompi_version=$("$ompi" --version 2>/dev/null | head -1)
table=$(printf '| launcher | median of %d (s) | all runs (s) |\n|---|---|---|\n| mrun -n %d | %.3f | %s |\n| %s -n %d | %.3f | %s |\n\nRatio mrun / mpirun: **%.2f** (below 1 is faster).' \
  "$repeats" "$ranks" "$mm" "$(printf '%.3f ' "${m[@]}")" "$ompi_version" "$ranks" "$om" "$(printf '%.3f ' "${o[@]}")" "$ratio")
echo "$table"

if [ "$write" = 1 ]; then
  section=$(printf '<!-- launch:begin -->\n## Launch time: mrun vs Open MPI mpirun\n\nA trivial PMIx job (`bench/launch/pmix_hello.c`: init, one fence, finalize), %d ranks on %d CPUs (oversubscribed), measured on %s with:\n\n    bench/launch/launch_time.sh -n %d -r %d --write\n\n%s\n<!-- launch:end -->' \
    "$ranks" "$(nproc)" "$(date -u +%Y-%m-%d)" "$ranks" "$repeats" "$table")
  write_doc_section launch "$section"
  echo "launch_time.sh: wrote docs/PERFORMANCE.md"
fi
