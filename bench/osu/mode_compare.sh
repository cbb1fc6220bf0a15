#!/usr/bin/env bash
# One osu_p2p test at one size (or one osu_coll test on 4 ranks,
# oversubscribed) in many short interleaved runs of the four stacks of
# sm_compare.sh, split by this VM's modes. The VM switches,
# within seconds and often mid-run, between a fast mode (a cache line
# crosses from core to core in about 60 ns) and a slow one (230-280 ns),
# and every stack's figures move with it, some by 4x: a median over a few
# runs says mostly which mode each stack drew. Each run here is bracketed
# by two probes of that crossing (bench/osu/line_pingpong); a run whose
# two probes both read below --split ns counts as fast, both above as
# slow, and one probe each side as mixed (counted, not used). Prints per
# stack the median of all runs and of each mode, and mrail against the
# best other stack in each mode. --load runs bench/osu/memload pinned to
# core 0 beside the ranks (whose own work then moves the probes: read the
# split there with care). --split values splits latency runs by their own
# figures instead (1-D k-means of all runs pooled, as before the probes).
# --btl (latency only) adds mrail's btl alone to every round (btl_bench's
# ping-pong: btl/sm's ring and an active-message callback, no matching, no
# MPI; its header is 24 bytes where the MPI path's is 8) and a row for the
# floor (the probes' one-way crossing): where a small message's time goes.
#   bench/osu/mode_compare.sh [--build DIR]
#       [--test latency|bw|bibw|mbw_mr|allreduce|bcast|barrier] [--size BYTES]
#       [--rounds N] [--iters N] [--split NS|values] [--load] [--btl]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/stacks.sh
build=build test=latency rounds=21 size=8 iters= split=150 load=0 btl=0
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --test) test=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --split) split=$2; shift 2 ;;
    --load) load=1; shift ;;
    --btl) btl=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "mode_compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
me=mode_compare.sh
prog=osu_p2p np=2
case $test in
  latency) unit=us better=low ;;
  bw|bibw) unit=MB/s better=high ;;
  mbw_mr) unit=msg/s better=high ;;
  allreduce|bcast|barrier) unit=us better=low prog=osu_coll np=4 ;;
  *) echo "$me: --test $test: give latency, bw, bibw, mbw_mr, allreduce, bcast or barrier" >&2; exit 2 ;;
esac
case $rounds in ''|*[!0-9]*|0) echo "$me: --rounds must be a positive integer, not '$rounds'" >&2; exit 2 ;; esac
case $iters in *[!0-9]*|0) echo "$me: --iters must be a positive integer, not '$iters'" >&2; exit 2 ;; esac
case $size in ''|*[!0-9]*) echo "$me: --size must be a whole number of bytes, not '$size'" >&2; exit 2 ;; esac
[ "$btl" = 0 ] || [ "$test" = latency ] || { echo "$me: --btl is for --test latency only" >&2; exit 2; }
case $split in
  values) [ "$test" = latency ] || { echo "$me: --split values is for --test latency only" >&2; exit 2; } ;;
  ''|*[!0-9]*|0) echo "$me: --split must be a positive number of ns or 'values', not '$split'" >&2; exit 2 ;;
esac
for tool in mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich taskset; do
  command -v "$tool" >/dev/null || { echo "$me: $tool missing (apt-get install libopenmpi-dev libmpich-dev)" >&2; exit 1; }
done
for b in mpicc mrun line_pingpong memload btl_bench; do
  [ -x "$build/bin/$b" ] || { echo "$me: build mrail first (cmake --build $build): no $build/bin/$b" >&2; exit 1; }
done
work=$(mktemp -d)
loadpid=
trap '[ -n "$loadpid" ] && kill "$loadpid" 2>/dev/null; rm -rf "$work"' EXIT
stacks_build "bench/osu/$prog.c" "$work/$prog"
stacks="mrail openmpi openmpi_nocma mpich"
[ "$btl" = 1 ] && stacks="$stacks mrail_btl"
probe() { "$build/bin/line_pingpong" | awk '{ print $3 }'; }
one() { # stack: the figure of one run
  if [ "$1" = mrail_btl ]; then
    "$build/bin/mrun" -n 2 --bind-to core "$build/bin/btl_bench" --max "$size" --reps 1 </dev/null \
      2>/dev/null | awk -v s="$size" '!/^#/ && $1 == s { print $2 }'
    return
  fi
  stacks_launch "$1" "$np" "$work/$prog" "$test" --min "$size" --max "$size" ${iters:+--iters "$iters"} \
    </dev/null 2>/dev/null | awk '!/^#/ && NF >= 2 { v = $2 } END { print v }'
}
if [ "$load" = 1 ]; then
  taskset -c 0 "$build/bin/memload" 2>"$work/memload.log" &
  loadpid=$!
  sleep 1
fi
for r in $(seq "$rounds"); do
  for s in $(stacks_in_turn "$r" $stacks); do
    before=$(probe)
    v=$(one "$s")
    after=$(probe)
    [ -n "$v" ] || { echo "$me: a $s run printed no figure" >&2; exit 1; }
    echo "$v $before $after" >>"$work/$s.runs"
  done
done
if [ -n "$loadpid" ]; then
  kill -INT "$loadpid" 2>/dev/null || true
  wait "$loadpid" 2>/dev/null || true
  loadpid=
fi
# Each run's mode: F, S or M (mixed).
if [ "$split" = values ]; then
  # One threshold for every stack: the split of all runs pooled (in log
  # scale) into two groups with the least spread within them, tried at
  # every cut; one mode only when the groups' means are less than 1.5 apart.
  t=$(cat "$work"/*.runs | awk '{ print $1 }' | sort -g | awk '{ x[NR] = log($1) } END {
    best = -1; cut = NR
    for (i = 1; i < NR; i++) {
      s1 = 0; s2 = 0; for (j = 1; j <= i; j++) s1 += x[j]; for (j = i + 1; j <= NR; j++) s2 += x[j]
      m1 = s1 / i; m2 = s2 / (NR - i); e = 0
      for (j = 1; j <= i; j++) e += (x[j] - m1) ^ 2; for (j = i + 1; j <= NR; j++) e += (x[j] - m2) ^ 2
      if (best < 0 || e < best) { best = e; cut = i; gm = m2 - m1 }
    }
    print (gm >= log(1.5) ? exp((x[cut] + x[cut + 1]) / 2) : 1e9) }')
  how="split at $t $unit by the runs' own figures"
  for s in $stacks; do awk -v t="$t" '{ print $1, ($1 < t ? "F" : "S") }' "$work/$s.runs" >"$work/$s.moded"; done
else
  how="split by the probes at $split ns"
  for s in $stacks; do
    awk -v t="$split" '{ print $1, ($2 < t && $3 < t ? "F" : ($2 >= t && $3 >= t ? "S" : "M")) }' \
      "$work/$s.runs" >"$work/$s.moded"
  done
fi
# stack mode -> "count median" (median 0 when none)
mode_stat() { awk -v m="$2" '$2 == m || m == "all" { print $1 }' "$work/$1.moded" | sort -g |
  awk '{ v[NR] = $1 } END { printf "%d %s\n", NR, (NR ? v[int((NR + 1) / 2)] : 0) }'; }
printf '# mode_compare: %s %s on %d ranks at %s bytes (%s), %d interleaved rounds, %s%s\n' "$prog" "$test" "$np" "$size" \
  "$unit" "$rounds" "$how" "$( [ "$load" = 1 ] && echo ', memload on core 0' )"
printf '| stack | all runs: median | fast: runs | fast: median | slow: runs | slow: median | mixed runs |\n'
printf '|---|---|---|---|---|---|---|\n'
for s in $stacks; do
  read -r _ ma < <(mode_stat "$s" all)
  read -r nf mf < <(mode_stat "$s" F)
  read -r ns ms < <(mode_stat "$s" S)
  read -r nm _ < <(mode_stat "$s" M)
  echo "$s $ma $nf $mf $ns $ms" >>"$work/table"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$s" "$ma" "$nf" "$( [ "$nf" -gt 0 ] && echo "$mf" || echo -)" \
    "$ns" "$( [ "$ns" -gt 0 ] && echo "$ms" || echo -)" "$nm"
done
if [ "$btl" = 1 ]; then # the floor: the probes of every run, as us
  cat "$work"/*.runs | awk '{ print $2 / 1000, $3 / 1000 }' >"$work/probes"
  for m in F S; do
    awk -v t="$split" -v m="$m" '{ f = ($1 * 1000 < t && $2 * 1000 < t) ? "F" : ($1 * 1000 >= t && $2 * 1000 >= t ? "S" : "M") }
      f == m { print $1; print $2 }' "$work/probes" | sort -g | awk '{ v[NR] = $1 } END { printf "%s ", (NR ? v[int((NR + 1) / 2)] : "-") }'
  done | { read -r ff fs || true; printf '| floor: a line crossing, one way | - | - | %s | - | %s | - |\n' "$ff" "$fs"; }
fi
printf '\nEvery run (figure, probe before and after in ns, mode):\n'
for s in $stacks; do
  printf '%s: %s\n' "$s" "$(paste -d' ' "$work/$s.runs" <(awk '{ print $2 }' "$work/$s.moded") |
    awk '{ printf "%s(%s,%s)%s ", $1, $2, $3, $4 }')"
done
[ "$load" = 1 ] && printf '\nThe load: %s\n' "$(cat "$work/memload.log")"
# mrail / best other, per mode: for "low" figures the best is the least.
awk -v better="$better" '
  function best(cur, v) { return cur == "" ? v : (better == "low" ? (v < cur ? v : cur) : (v > cur ? v : cur)) }
  $1 == "mrail" { a = $2; f = ($3 > 0 ? $4 : 0); s = ($5 > 0 ? $6 : 0); next }
  $1 == "mrail_btl" { next }
  { ba = best(ba, $2); if ($3 > 0) bf = best(bf, $4); if ($5 > 0) bs = best(bs, $6) }
  END { printf "\nmrail / best other: all runs %.2f", a / ba
        if (f > 0 && bf != "") printf ", fast mode %.2f", f / bf
        if (s > 0 && bs != "") printf ", slow mode %.2f", s / bs; printf "\n" }' "$work/table"
