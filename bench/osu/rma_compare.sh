#!/usr/bin/env bash
# One-sided communication as issue 18 measures it. bench/osu/osu_rma.c built
# with mrail's, Open MPI's and MPICH's mpicc; on one node, two ranks bound to
# cores, the three interleaved in one run, medians of --reps: put and get
# latency (8 B - 64 KiB), put and get bandwidth (64 KiB - 4 MiB, windows of
# 64), accumulate latency (8 B - 4 KiB of doubles) and the fetch-and-op rate.
# --lab (root) also runs mrail's put and get bandwidth between two emulated
# hosts over two tc-shaped rails (--rails, default 500mbit,500mbit) against
# the sum of iperf3 on each rail alone.
# Prints the tables; --write also updates docs/PERFORMANCE.md.
#   bench/osu/rma_compare.sh [--reps N] [--build DIR] [--lab] [--rails R1,R2] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
. bench/lib/stacks.sh
. bench/lib/iperf_rail.sh
cmdline="$*"
reps=3 build=build write=0 lab=0 rails=500mbit,500mbit
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --lab) lab=1; shift ;;
    --rails) rails=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "rma_compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "rma_compare.sh: --reps $reps: give a positive number" >&2; exit 2; }
for tool in mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich; do
  command -v "$tool" >/dev/null || { echo "rma_compare.sh: $tool missing (tools/setup-debian.sh --bench)" >&2; exit 1; }
done
if [ "$lab" = 1 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "rma_compare.sh: --lab needs root (network namespaces, tc)" >&2; exit 1; }
  command -v iperf3 >/dev/null || { echo "rma_compare.sh: iperf3 missing (tools/setup-debian.sh --bench)" >&2; exit 1; }
fi
[ -x "$build/bin/mpicc" ] || { echo "rma_compare.sh: build mrail first (cmake --build $build)" >&2; exit 1; }
work=$(mktemp -d)
prefix=mrr subnet=78
trap 'bench/lab/lab.sh down --prefix $prefix >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
src=bench/osu/osu_rma.c
"$build/bin/mpicc" -O2 -o "$work/mrail" "$src"
mpicc.openmpi -O2 -o "$work/openmpi" "$src" 2>/dev/null
mpicc.mpich -O2 -o "$work/mpich" "$src" 2>/dev/null

launch() { # stack mode args...
  local s=$1
  shift
  case $s in
    mrail) timeout 600 "$build/bin/mrun" -n 2 --bind-to core "$work/mrail" "$@" ;;
    openmpi) timeout 600 mpirun.openmpi --allow-run-as-root -n 2 --bind-to core "$work/openmpi" "$@" ;;
    mpich) timeout 600 mpirun.mpich -n 2 -bind-to core "$work/mpich" "$@" ;;
  esac | grep -v '^#' || true
}
median() { # files...: "size value" lines -> the median per size
  cat "$@" | sort -k1,1n -k2,2g |
    awk '{v[$1] = v[$1] " " $2; n[$1]++} END {for (k in v) {split(substr(v[k], 2), a, " "); print k, a[int((n[k] + 1) / 2)]}}' |
    sort -n
}
stacks="mrail openmpi mpich"
modes="put_lat get_lat put_bw get_bw acc_lat fop_rate"
args() { # mode -> its sizes
  case $1 in
    put_lat|get_lat) echo --min 8 --max 65536 ;;
    put_bw|get_bw) echo --min 65536 --max 4194304 ;;
    acc_lat) echo --min 8 --max 4096 ;;
    fop_rate) echo ;;
  esac
}
for mode in $modes; do
  for r in $(seq "$reps"); do
    for s in $(stacks_in_turn "$r" $stacks); do
      # shellcheck disable=SC2046
      launch "$s" "$mode" $(args "$mode") > "$work/$s.$mode.$r"
    done
  done
  for s in $stacks; do median "$work/$s.$mode".* > "$work/$s.$mode"; done
  join -a1 -e - -o 0,1.2,2.2 "$work/mrail.$mode" "$work/openmpi.$mode" |
    join -a1 -e - -o 0,1.2,1.3,2.2 - "$work/mpich.$mode" > "$work/$mode"
done

table() { # mode title better
  printf '%s (median of %s)\n%10s %12s %12s %12s %12s\n' "$2" "$reps" size mrail openmpi mpich "mrail/best"
  awk -v better="$3" '{
    b = ""; for (i = 3; i <= 4; i++) if ($i != "-" && (b == "" || (better == "low" ? $i < b : $i > b))) b = $i;
    printf "%10d %12.2f %12s %12s %12s\n", $1, $2, $3, $4, b == "" ? "-" : sprintf("%.2f", $2 / b)}' "$work/$1"
}
out=$( {
  table put_lat "MPI_Put + flush latency (us)" low; echo
  table get_lat "MPI_Get + flush latency (us)" low; echo
  table put_bw "MPI_Put bandwidth, windows of 64 (MB/s)" high; echo
  table get_bw "MPI_Get bandwidth, windows of 64 (MB/s)" high; echo
  table acc_lat "MPI_Accumulate (MPI_SUM, doubles) + flush latency (us)" low; echo
  table fop_rate "MPI_Fetch_and_op + flush (operations/s)" high; } )
ratios() { # mode
  awk '$1 >= 1048576 { b = ""; for (i = 3; i <= 4; i++) if ($i != "-" && (b == "" || $i > b)) b = $i;
    printf "%s%.2f", sep, b == "" ? 0 : $2 / b; sep = ", " }' "$work/$1"
}
summary="On one node, bandwidth mrail/best at 1 and 4 MiB: put **$(ratios put_bw)**, get **$(ratios get_bw)** (target >= 1)."
printf '%s\n\n%s\n' "$out" "$summary"

lab_out="" lab_summary=""
if [ "$lab" = 1 ]; then
  IFS=, read -r -a rates <<<"$rails"
  n=${#rates[@]}
  bench/lab/lab.sh up --rails "$rails" --prefix "$prefix" --subnet $subnet >/dev/null
  ref=0 per=""
  for r in $(seq 1 "$n"); do
    mbit=$(iperf_rail "$prefix" "$subnet" "$r")
    per="$per${per:+ + }$mbit"
    ref=$(awk -v a="$ref" -v b="$mbit" 'BEGIN { print a + b }')
  done
  include=$(seq -s, -f "10.$subnet.%g.0/24" 1 "$n")
  for mode in put_bw get_bw; do
    for r in $(seq "$reps"); do
      timeout 600 "$build/bin/mrun" -n 2 --netns "$prefix-0,$prefix-1" --pmix-if "${prefix}br" \
        --mca btl self,tcp --mca btl_tcp_if_include "$include" \
        "$work/mrail" "$mode" --min 1048576 --max 4194304 --iters 3 | grep -v '^#' > "$work/lab.$mode.$r" || true
    done
    median "$work/lab.$mode".* > "$work/lab.$mode"
  done
  lab_out=$(printf 'mrail between two emulated hosts over %s (%s), iperf3 on each rail alone: %s = %s Mbit/s\n%10s %12s %12s %12s %12s\n' \
    "$n rails" "$rails" "$per" "$ref" size "put MB/s" "put/iperf3" "get MB/s" "get/iperf3"
    join "$work/lab.put_bw" "$work/lab.get_bw" |
      awk -v ref="$ref" '{ printf "%10d %12.1f %12.3f %12.1f %12.3f\n", $1, $2, $2 * 8 / ref, $3, $3 * 8 / ref }')
  eff=$(join "$work/lab.put_bw" "$work/lab.get_bw" |
    awk -v ref="$ref" '{ printf "%s%.1f %% / %.1f %%", sep, 100 * $2 * 8 / ref, 100 * $3 * 8 / ref; sep = ", " }')
  lab_summary="Over the lab's rails, put / get at 1 and 4 MiB: **$eff** of the iperf3 sum (target >= 95 %)."
  printf '\n%s\n\n%s\n' "$lab_out" "$lab_summary"
fi

if [ "$write" = 1 ]; then
  lab_part=""
  [ -z "$lab_out" ] || lab_part=$(printf '\n```\n%s\n```\n\n%s\n' "$lab_out" "$lab_summary")
  section=$(printf '<!-- issue18:begin -->\n## One-sided communication (issue 18)\n\nThe same program (`bench/osu/osu_rma.c`) built with each MPI'"'"'s mpicc; on one node 2 ranks bound to cores, the three stacks interleaved in one run (each round begun by another), medians of %s; measured on %s with:\n\n    bench/osu/rma_compare.sh %s\n\nOpen MPI %s (its default one-sided component on one node), MPICH %s (device %s). Rank 1 is the target and waits in `MPI_Barrier`; every measurement is one `MPI_Win_lock_all` epoch, each operation (or window of 64) followed by `MPI_Win_flush`.\n\n```\n%s\n```\n\n%s\n%s\n<!-- issue18:end -->' \
    "$reps" "$(date -u +%Y-%m-%d)" "$cmdline" "$(mpirun.openmpi --version 2>/dev/null | head -1 | awk '{print $NF}')" \
    "$(mpichversion 2>/dev/null | awk '/Version:/ {print $NF}')" \
    "$(mpichversion 2>/dev/null | awk '/Device:/ {print $NF}')" "$out" "$summary" "$lab_part")
  write_doc_section issue18 "$section"
  echo "rma_compare.sh: wrote docs/PERFORMANCE.md"
fi
