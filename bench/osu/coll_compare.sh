#!/usr/bin/env bash
# Builds bench/osu/osu_coll.c with mrail's, Open MPI's and MPICH's mpicc and
# measures allreduce, bcast and alltoall latency with each, interleaved in
# one run, at --np ranks (default 4: oversubscribed on a 2-core machine, for
# all three alike); medians of --reps runs. Prints the tables; --write also
# updates docs/PERFORMANCE.md and docs/osu_coll.png (gnuplot).
#   bench/osu/coll_compare.sh [--np N] [--reps N] [--max BYTES] [--build DIR] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
. bench/lib/stacks.sh
np=4 reps=3 max=1048576 build=build write=0
while [ $# -gt 0 ]; do
  case $1 in
    --np) np=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "coll_compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich gnuplot; do
  command -v "$tool" >/dev/null || { echo "coll_compare.sh: $tool missing (apt-get install libopenmpi-dev libmpich-dev gnuplot-nox)" >&2; exit 1; }
done
[ -x "$build/bin/mpicc" ] || { echo "coll_compare.sh: build mrail first (cmake --build $build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=bench/osu/osu_coll.c
"$build/bin/mpicc" -O2 -o "$work/mrail" "$src"
mpicc.openmpi -O2 -o "$work/openmpi" "$src" 2>/dev/null
mpicc.mpich -O2 -o "$work/mpich" "$src" 2>/dev/null
# A run that does not finish in time (MPICH busy-polls: oversubscribed it crawls) is cut
# short: the sizes it reached count, the rest show as "-".
launch() { # stack op
  case $1 in
    mrail) timeout 300 "$build/bin/mrun" -n "$np" --oversubscribe "$work/mrail" "$2" --max "$max" || true ;;
    openmpi) timeout 300 mpirun.openmpi --allow-run-as-root --oversubscribe -n "$np" "$work/openmpi" "$2" --max "$max" || true ;;
    mpich) timeout 30 mpirun.mpich -n "$np" "$work/mpich" "$2" --max "$max" 2>/dev/null || true ;;
  esac
}
stacks="mrail openmpi mpich"
ops="allreduce bcast alltoall"
for op in $ops; do
  for r in $(seq "$reps"); do
    for s in $(stacks_in_turn "$r" $stacks); do launch "$s" "$op" | grep -E '^[0-9]+ [0-9.]+$' > "$work/$s.$op.$r" || true; done
  done
  for s in $stacks; do # median per size over the reps
    cat "$work/$s.$op".* | sort -k1,1n -k2,2g |
      awk '{v[$1] = v[$1] " " $2; n[$1]++} END {for (k in v) {split(substr(v[k], 2), a, " "); print k, a[int((n[k] + 1) / 2)]}}' |
      sort -n > "$work/$s.$op"
  done
  # size mrail openmpi mpich ("-" where a stack has no figure)
  awk 'FNR == 1 {f++} {v[f, $1] = $2; k[$1] = 1}
    END {for (x in k) print x, ((1, x) in v ? v[1, x] : "-"), ((2, x) in v ? v[2, x] : "-"), ((3, x) in v ? v[3, x] : "-")}' \
    "$work/mrail.$op" "$work/openmpi.$op" "$work/mpich.$op" | sort -n > "$work/$op"
done
table() { # op
  printf 'MPI_%s latency (us, median of %s; %s ranks)\n%10s %10s %10s %10s %14s\n' "$1" "$reps" "$np" size mrail openmpi mpich "mrail/best"
  awk '{best = $4 == "-" || ($3 != "-" && $3 < $4) ? $3 : $4;
    printf "%10d %10s %10s %10s %14s\n", $1, $2, $3, $4, best == "-" ? "-" : sprintf("%.2f", $2 / best)}' "$work/$1"
}
out=$( { table allreduce; echo; table bcast; echo; table alltoall; } )
summary=$(for op in $ops; do
  awk -v op="$op" '{best = $4 == "-" || ($3 != "-" && $3 < $4) ? $3 : $4; if (best == "-") next; r = $2 / best; s += log(r); n++; if (r <= 1) w++}
    END {printf "MPI_%s: geometric mean of mrail/best %.2f, mrail fastest at %d of %d sizes. ", op, exp(s / n), w, n}' "$work/$op"
done)
printf '%s\n\n%s\n' "$out" "$summary"
if [ "$write" = 1 ]; then
  gnuplot <<GP
set terminal png size 1200,420
set output "docs/osu_coll.png"
set multiplot layout 1,3 title "OSU-style collective latency, $np ranks on 2 cores (medians of $reps)"
set logscale xy
set datafile missing "-"
set format x "%.0s%c"
set xlabel "message size (bytes)"
set ylabel "us (lower is better)"
set key top left
set title "MPI_Allreduce"
plot "$work/allreduce" u 1:2 w lp t "mrail", "" u 1:3 w lp t "Open MPI", "" u 1:4 w lp t "MPICH"
set title "MPI_Bcast"
plot "$work/bcast" u 1:2 w lp t "mrail", "" u 1:3 w lp t "Open MPI", "" u 1:4 w lp t "MPICH"
set title "MPI_Alltoall (bytes per peer)"
plot "$work/alltoall" u 1:2 w lp t "mrail", "" u 1:3 w lp t "Open MPI", "" u 1:4 w lp t "MPICH"
unset multiplot
GP
  section=$(printf '<!-- osucoll:begin -->\n## MPI collectives against Open MPI and MPICH (shared memory)\n\nThe same program (`bench/osu/osu_coll.c`) built with each MPI'"'"'s mpicc, %s ranks on the 2-core machine (oversubscribed for all three alike, no binding), the stacks interleaved in one run (each round begun by another), medians of %s; mrail with its automatic algorithm choice; measured on %s with:\n\n    bench/osu/coll_compare.sh --reps %s --write\n\n```\n%s\n```\n\n%s\n\n![OSU-style collectives](osu_coll.png)\n<!-- osucoll:end -->' \
    "$np" "$reps" "$(date -u +%Y-%m-%d)" "$reps" "$out" "$summary")
  write_doc_section osucoll "$section"
  echo "coll_compare.sh: wrote docs/PERFORMANCE.md and docs/osu_coll.png"
fi
