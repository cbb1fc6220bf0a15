#!/usr/bin/env bash
# Shared memory on one node, as issue 14 measures it: the same OSU-style
# programs (bench/osu/osu_p2p.c, osu_coll.c) built with mrail's, Open MPI's
# and MPICH's mpicc; Open MPI twice, with its default single copy (CMA) and
# with copy-in/copy-out (btl_vader_single_copy_mechanism none). Two ranks
# bound to the two cores for latency (0-64 B), message rate (8 B, window
# of 64, as osu_mbw_mr), bw and bibw (64 KiB-4 MiB); 4 ranks for
# allreduce, bcast (4-64 B) and barrier. Every stack runs each test in
# turn, --reps times, on a quiet machine and then with a memory-bandwidth
# load beside the ranks (bench/osu/memload: memcpy over 2 x 64 MiB, pinned
# to core 0 with taskset). Prints medians and mrail against the best other
# stack, and the floor under latency (bench/osu/line_pingpong: one cache
# line bounced between the cores); --write puts it in docs/PERFORMANCE.md.
# --tests runs only the named ones (of lat, mr, bw, bibw, allreduce, bcast,
# barrier, and bw16 and bibw16: bw and bibw with each receive buffer 16
# bytes into its page, the pair include/mrail/copy.h is about, not run by
# default), and --write then writes a section of their own.
#   bench/osu/sm_compare.sh [--reps N] [--build DIR] [--only quiet|load]
#                           [--tests a,b,...] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
. bench/lib/stacks.sh
reps=3 build=build write=0 only="" pick=""
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --tests) pick=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "sm_compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $reps in ''|*[!0-9]*|0) echo "sm_compare.sh: --reps must be a positive integer, not '$reps'" >&2; exit 2 ;; esac
case $only in ''|quiet|load) ;; *) echo "sm_compare.sh: --only takes quiet or load, not '$only'" >&2; exit 2 ;; esac
for tool in mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich taskset; do
  command -v "$tool" >/dev/null || { echo "sm_compare.sh: $tool missing (apt-get install libopenmpi-dev libmpich-dev util-linux)" >&2; exit 1; }
done
[ -x "$build/bin/mpicc" ] && [ -x "$build/bin/memload" ] && [ -x "$build/bin/line_pingpong" ] ||
  { echo "sm_compare.sh: build mrail first (cmake --build $build): no $build/bin/mpicc, memload or line_pingpong" >&2; exit 1; }
work=$(mktemp -d)
load_pid=""
cleanup() { [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for prog in osu_p2p osu_coll; do
  stacks_build "bench/osu/$prog.c" "$work/$prog"
done
stacks="mrail openmpi openmpi_nocma mpich"
# name|ranks|program and arguments|unit|better
tests="lat|2|osu_p2p latency --min 0 --max 64|us|low
mr|2|osu_p2p mbw_mr --min 8 --max 8|msg/s|high
bw|2|osu_p2p bw --min 65536 --max 4194304|MB/s|high
bibw|2|osu_p2p bibw --min 65536 --max 4194304|MB/s|high
allreduce|4|osu_coll allreduce --min 4 --max 64|us|low
bcast|4|osu_coll bcast --min 4 --max 64|us|low
barrier|4|osu_coll barrier|us|low"
extra="bw16|2|osu_p2p bw --min 65536 --max 4194304 --rbuf-offset 16|MB/s|high
bibw16|2|osu_p2p bibw --min 65536 --max 4194304 --rbuf-offset 16|MB/s|high"
if [ -n "$pick" ]; then
  for t in ${pick//,/ }; do
    grep -q "^$t|" <<<"$tests"$'\n'"$extra" ||
      { echo "sm_compare.sh: --tests: unknown test '$t' (valid: lat, mr, bw, bibw, allreduce, bcast, barrier, bw16, bibw16)" >&2; exit 2; }
  done
  tests=$(grep -E "^(${pick//,/|})\|" <<<"$tests"$'\n'"$extra")
fi
measure() { # condition
  local cond=$1 r name np cmd unit better s
  for r in $(seq "$reps"); do
    while IFS='|' read -r name np cmd unit better; do
      for s in $(stacks_in_turn "$r" $stacks); do
        # shellcheck disable=SC2086
        stacks_launch "$s" "$np" "$work/"$cmd </dev/null | grep -v '^#' >"$work/$cond.$name.$s.$r" ||
          { echo "sm_compare.sh: $s failed on $name ($cond)" >&2; exit 1; }
      done
    done <<<"$tests"
  done
}
report() { # condition: one table per test, medians per size
  local cond=$1 name np cmd unit better s
  while IFS='|' read -r name np cmd unit better; do
    for s in $stacks; do
      cat "$work/$cond.$name.$s".* | sort -k1,1n -k2,2g |
        awk '{v[$1] = v[$1] " " $2; n[$1]++} END {for (k in v) {split(substr(v[k], 2), a, " "); print k, a[int((n[k] + 1) / 2)]}}' |
        sort -n >"$work/$cond.$name.$s"
    done
    join "$work/$cond.$name.mrail" "$work/$cond.$name.openmpi" | join - "$work/$cond.$name.openmpi_nocma" |
      join - "$work/$cond.$name.mpich" >"$work/$cond.$name"
    printf '\n%s, %s (%s, medians of %s)\n\n' "$name" "$cond" "$unit" "$reps"
    printf '| size (B) | mrail | Open MPI (CMA) | Open MPI (no single copy) | MPICH | mrail / best |\n|---|---|---|---|---|---|\n'
    awk -v better="$better" '{b = $3; for (i = 4; i <= 5; i++) if ((better == "low" && $i < b) || (better == "high" && $i > b)) b = $i;
      printf "| %d | %.2f | %.2f | %.2f | %.2f | **%.2f** |\n", $1, $2, $3, $4, $5, $2 / b}' "$work/$cond.$name"
  done <<<"$tests"
}
out=""
for cond in quiet load; do
  [ -n "$only" ] && [ "$only" != "$cond" ] && continue
  if [ "$cond" = load ]; then
    taskset -c 0 "$build/bin/memload" 2>"$work/memload.log" &
    load_pid=$!
    sleep 1
  fi
  floor=$("$build/bin/line_pingpong" | awk '{print $3}')
  measure "$cond"
  floor="$floor $("$build/bin/line_pingpong" | awk '{print $3}')"
  if [ -n "$load_pid" ]; then
    kill "$load_pid"
    wait "$load_pid" 2>/dev/null || true
    load_pid=""
  fi
  out+=$(report "$cond")
  out+=$'\n\n'"The floor, $cond: one cache line bounced between the two cores (bench/osu/line_pingpong) took $(echo "$floor" | sed 's/ / and /') ns one way, before and after the runs."
  [ "$cond" = load ] && out+=$'\n\n'"The load: $(cat "$work/memload.log")"
done
printf '%s\n' "$out"
if [ "$write" = 1 ]; then
  section=issue14 what="" opts=""
  if [ -n "$pick" ]; then
    section="issue14-${pick//,/-}" what=": $pick" opts=" --tests $pick"
  fi
  write_doc_section "$section" "<!-- $section:begin -->
## Shared memory against Open MPI and MPICH$what, quiet and under memory load ($(date +%Y-%m-%d))

Two ranks bound to the two cores (4 ranks oversubscribed for the collectives), each stack in
turn, $reps rounds (each begun by another stack); the load is bench/osu/memload pinned to core 0. Measured with:

    bench/osu/sm_compare.sh --reps $reps$opts --write
$out
<!-- $section:end -->"
fi
