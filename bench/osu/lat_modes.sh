#!/usr/bin/env bash
# Small-message latency on this VM comes in two modes: a run is fast or
# slow as a whole (the same program, the same binding, back to back:
# about 0.2 us or about 0.45 us for every stack here, and the cache-line
# floor of bench/osu/line_pingpong moves between 60 and 280 ns the same
# way), so a median over a few runs says mostly which mode each stack
# drew. This runs --rounds rounds of osu_p2p latency at one size, the
# four stacks of sm_compare.sh in turn in every round (two ranks bound to
# the two cores), and prints per stack the median of all runs and, split
# into a fast and a slow mode, the count and median of each, and mrail
# against the best other stack in each. The split is one threshold for
# all stacks, where all runs pooled divide best into two groups; a stack
# whose runs all fell in one mode has no figure in the other.
#   bench/osu/lat_modes.sh [--build DIR] [--rounds N] [--size BYTES] [--iters N]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/stacks.sh
build=build rounds=41 size=8 iters=30000
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "lat_modes.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in rounds iters; do
  case ${!v} in ''|*[!0-9]*|0) echo "lat_modes.sh: --$v must be a positive integer, not '${!v}'" >&2; exit 2 ;; esac
done
case $size in ''|*[!0-9]*) echo "lat_modes.sh: --size must be a whole number of bytes, not '$size'" >&2; exit 2 ;; esac
for tool in mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich; do
  command -v "$tool" >/dev/null || { echo "lat_modes.sh: $tool missing (apt-get install libopenmpi-dev libmpich-dev)" >&2; exit 1; }
done
[ -x "$build/bin/mpicc" ] && [ -x "$build/bin/mrun" ] ||
  { echo "lat_modes.sh: build mrail first (cmake --build $build): no $build/bin/mpicc or mrun" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stacks_build bench/osu/osu_p2p.c "$work/osu_p2p"
stacks="mrail openmpi openmpi_nocma mpich"
one() { # stack: the latency of one run
  stacks_launch "$1" 2 "$work/osu_p2p" latency --min "$size" --max "$size" --iters "$iters" \
    </dev/null 2>/dev/null | awk '!/^#/ && NF >= 2 { v = $2 } END { print v }'
}
for _ in $(seq "$rounds"); do
  for s in $stacks; do
    v=$(one "$s")
    [ -n "$v" ] || { echo "lat_modes.sh: a $s run printed no figure" >&2; exit 1; }
    echo "$v" >>"$work/$s.runs"
  done
done
# One threshold for every stack: the split of all runs pooled (in log
# scale) into two groups with the least spread within them (1-D k-means,
# k = 2, tried at every cut); one mode only when the groups' means are
# less than 1.5 apart.
cat "$work"/*.runs | sort -g | awk '{ x[NR] = log($1) } END {
  best = -1; cut = NR
  for (i = 1; i < NR; i++) {
    s1 = 0; s2 = 0; for (j = 1; j <= i; j++) s1 += x[j]; for (j = i + 1; j <= NR; j++) s2 += x[j]
    m1 = s1 / i; m2 = s2 / (NR - i); e = 0
    for (j = 1; j <= i; j++) e += (x[j] - m1) ^ 2; for (j = i + 1; j <= NR; j++) e += (x[j] - m2) ^ 2
    if (best < 0 || e < best) { best = e; cut = i; gm = m2 - m1 }
  }
  print (gm >= log(1.5) ? exp((x[cut] + x[cut + 1]) / 2) : 1e9) }' >"$work/threshold"
threshold=$(cat "$work/threshold")
# stack -> "all median, fast count, fast median, slow count, slow median"
modes() {
  sort -g "$work/$1.runs" | awk -v t="$threshold" '{ v[NR] = $1; if ($1 < t) at = NR } END {
    n2 = NR - at
    printf "%.3f %d %.3f %d %.3f\n", v[int((NR + 1) / 2)], at, (at > 0 ? v[int((at + 1) / 2)] : 0), n2,
      (n2 > 0 ? v[at + int((n2 + 1) / 2)] : 0) }'
}
printf '# lat_modes: %s-byte latency (us), %d interleaved rounds of %d round trips\n' "$size" "$rounds" "$iters"
printf '| stack | median of all runs | fast runs | fast median | slow runs | slow median |\n|---|---|---|---|---|---|\n'
for s in $stacks; do
  read -r all nf mf ns ms < <(modes "$s")
  echo "$s $all $nf $mf $ns $ms" >>"$work/table"
  printf '| %s | %s | %s | %s | %s | %s |\n' "$s" "$all" "$nf" "$( [ "$nf" -gt 0 ] && echo "$mf" || echo -)" \
    "$ns" "$( [ "$ns" -gt 0 ] && echo "$ms" || echo -)"
done
printf '\nEvery run, sorted (us):\n'
for s in $stacks; do
  printf '%s: %s\n' "$s" "$(sort -g "$work/$s.runs" | tr '\n' ' ')"
done
awk -v t="$threshold" '$1 == "mrail" { a = $2; f = ($3 > 0 ? $4 : 0); s = ($5 > 0 ? $6 : 0); next }
  { if (!ba || $2 < ba) ba = $2; if ($3 > 0 && (!bf || $4 < bf)) bf = $4; if ($5 > 0 && (!bs || $6 < bs)) bs = $6 }
  END { printf "\nmrail / best other: median of all runs %.2f", a / ba
        if (t + 0 < 1e9) printf " (modes split at %.3f us)", t
        if (f > 0 && bf > 0) printf ", fast mode %.2f", f / bf
        if (s > 0 && bs > 0) printf ", slow mode %.2f", s / bs; printf "\n" }' "$work/table"
