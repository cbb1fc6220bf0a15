#!/usr/bin/env bash
# Builds bench/osu/osu_p2p.c with mrail's, Open MPI's and MPICH's mpicc and
# runs latency, bandwidth and bi-directional bandwidth for all three, two
# ranks bound to cores, interleaved in one run; medians of --reps runs.
# Prints the tables; --write also updates docs/PERFORMANCE.md and
# docs/osu_p2p.png (gnuplot).
#   bench/osu/compare.sh [--reps N] [--max BYTES] [--build DIR] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
. bench/lib/stacks.sh
reps=3 max=4194304 build=build write=0
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich gnuplot; do
  command -v "$tool" >/dev/null || { echo "compare.sh: $tool missing (apt-get install libopenmpi-dev libmpich-dev gnuplot-nox)" >&2; exit 1; }
done
[ -x "$build/bin/mpicc" ] || { echo "compare.sh: build mrail first (cmake --build $build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=bench/osu/osu_p2p.c
"$build/bin/mpicc" -O2 -o "$work/mrail" "$src"
mpicc.openmpi -O2 -o "$work/openmpi" "$src" 2>/dev/null
mpicc.mpich -O2 -o "$work/mpich" "$src" 2>/dev/null
launch() { # stack mode
  case $1 in
    mrail) "$build/bin/mrun" -n 2 --bind-to core "$work/mrail" "$2" --max "$max" ;;
    openmpi) mpirun.openmpi --allow-run-as-root -n 2 --bind-to core "$work/openmpi" "$2" --max "$max" ;;
    mpich) mpirun.mpich -n 2 -bind-to core "$work/mpich" "$2" --max "$max" ;;
  esac
}
stacks="mrail openmpi mpich"
for mode in latency bw bibw; do
  for r in $(seq "$reps"); do
    for s in $(stacks_in_turn "$r" $stacks); do launch "$s" "$mode" | grep -v '^#' > "$work/$s.$mode.$r"; done
  done
  for s in $stacks; do # median per size over the reps
    cat "$work/$s.$mode".* | sort -k1,1n -k2,2g |
      awk '{v[$1] = v[$1] " " $2; n[$1]++} END {for (k in v) {split(substr(v[k], 2), a, " "); print k, a[int((n[k] + 1) / 2)]}}' |
      sort -n > "$work/$s.$mode"
  done
  join "$work/mrail.$mode" "$work/openmpi.$mode" | join - "$work/mpich.$mode" > "$work/$mode"
done

table() { # mode unit better
  printf '%s (%s, median of %s)\n%10s %10s %10s %10s %14s\n' "$1" "$2" "$reps" size mrail openmpi mpich "mrail/best"
  awk -v better="$3" '{best = better == "low" ? ($3 < $4 ? $3 : $4) : ($3 > $4 ? $3 : $4);
    printf "%10d %10.2f %10.2f %10.2f %14.2f\n", $1, $2, $3, $4, $2 / best}' "$work/$1"
}
out=$( { table latency us low; echo; table bw MB/s high; echo; table bibw MB/s high; } )
lat8=$(awk '$1 == 8 { best = $3 < $4 ? $3 : $4; printf "%.2f", $2 / best }' "$work/latency")
bw=$(awk '$1 >= 1048576 && $1 <= 4194304 { best = $3 > $4 ? $3 : $4; printf "%s%.2f", sep, $2 / best; sep = ", " }' "$work/bw")
summary="8-byte latency mrail/best = **$lat8** (target <= 0.8); bandwidth mrail/best at 1, 2, 4 MiB = **$bw** (target >= 1.1)."
printf '%s\n\n%s\n' "$out" "$summary"

if [ "$write" = 1 ]; then
  gnuplot <<GP
set terminal png size 1200,420
set output "docs/osu_p2p.png"
set multiplot layout 1,3 title "OSU-style p2p, 2 ranks on one node (medians of $reps)"
set logscale x 2
set format x "%.0s%c"
set xlabel "message size (bytes)"
set key top left
set title "latency (us, lower is better)"
set logscale y
plot "$work/latency" u 1:2 w lp t "mrail", "" u 1:3 w lp t "Open MPI", "" u 1:4 w lp t "MPICH"
unset logscale y
set title "bandwidth (MB/s)"
plot "$work/bw" u 1:2 w lp t "mrail", "" u 1:3 w lp t "Open MPI", "" u 1:4 w lp t "MPICH"
set title "bi-directional bandwidth (MB/s)"
plot "$work/bibw" u 1:2 w lp t "mrail", "" u 1:3 w lp t "Open MPI", "" u 1:4 w lp t "MPICH"
unset multiplot
GP
  section=$(printf '<!-- osu:begin -->\n## MPI point-to-point against Open MPI and MPICH (shared memory)\n\nThe same program (`bench/osu/osu_p2p.c`) built with each MPI'"'"'s mpicc, 2 ranks bound to cores, the three stacks interleaved in one run (each round begun by another), medians of %s; measured on %s with:\n\n    bench/osu/compare.sh --reps %s --write\n\nOpen MPI %s (its default on one node: btl/vader), MPICH %s (device %s).\n\n```\n%s\n```\n\n%s\n\n![OSU-style p2p](osu_p2p.png)\n<!-- osu:end -->' \
    "$reps" "$(date -u +%Y-%m-%d)" "$reps" "$(mpirun.openmpi --version 2>/dev/null | head -1 | awk '{print $NF}')" \
    "$(mpichversion 2>/dev/null | awk '/Version:/ {print $NF}')" \
    "$(mpichversion 2>/dev/null | awk '/Device:/ {print $NF}')" "$out" "$summary")
  write_doc_section osu "$section"
  echo "compare.sh: wrote docs/PERFORMANCE.md and docs/osu_p2p.png"
fi
