#!/usr/bin/env bash
# Two mrail builds side by side (before and after a change), interleaved in
# one run on this machine: 8-byte latency and 4 MiB bandwidth (osu_p2p, two
# ranks bound to cores over btl/sm) and 8-byte allreduce on 4 ranks
# (osu_coll, oversubscribed), each build first in every other run; medians
# of --reps runs, after/before, and the best run of each (lowest time,
# highest bandwidth: what the code can do when the shared machine leaves it
# alone).
#   bench/osu/ab_builds.sh --a BUILD_BEFORE --b BUILD_AFTER [--reps N]
set -euo pipefail
cd "$(dirname "$0")/../.."
a="" b="" reps=5
while [ $# -gt 0 ]; do
  case $1 in
    --a) a=$2; shift 2 ;;
    --b) b=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "ab_builds.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for d in "$a" "$b"; do
  [ -n "$d" ] && [ -x "$d/bin/mpicc" ] && [ -x "$d/bin/mrun" ] ||
    { echo "ab_builds.sh: --a and --b must be mrail build directories (bin/mpicc, bin/mrun); got '$d'" >&2; exit 2; }
done
case $reps in ''|*[!0-9]*|0) echo "ab_builds.sh: --reps must be a positive integer, not '$reps'" >&2; exit 2 ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for side in a b; do
  dir=${!side}
  "$dir/bin/mpicc" -O2 -o "$work/p2p_$side" bench/osu/osu_p2p.c
  "$dir/bin/mpicc" -O2 -o "$work/coll_$side" bench/osu/osu_coll.c
done
# The figure of one run: the last line's second column.
run() { # side test
  local dir=${!1}
  case $2 in
    lat) "$dir/bin/mrun" -n 2 --bind-to core "$work/p2p_$1" latency --min 8 --max 8 --iters 20000 ;;
    bw) "$dir/bin/mrun" -n 2 --bind-to core "$work/p2p_$1" bw --min 4194304 --max 4194304 --iters 20 ;;
    allreduce) "$dir/bin/mrun" -n 4 --oversubscribe "$work/coll_$1" allreduce --min 8 --max 8 --iters 2000 ;;
  esac | awk '!/^#/ && NF >= 2 { v = $2 } END { print v }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
best() { # test: the lowest time or the highest bandwidth
  if [ "$1" = bw ]; then sort -g | tail -1; else sort -g | head -1; fi
}
printf '# %s = before, %s = after; medians of %d interleaved runs\n' "$a" "$b" "$reps"
printf '%-28s %10s %10s %8s %10s %10s  %s\n' test before after ratio best-bef best-aft "all runs (before | after)"
for t in lat bw allreduce; do
  : >"$work/$t.a"
  : >"$work/$t.b"
  # Each build goes first in every other run: on this VM a run made right
  # after another reads a few per cent better by itself.
  for r in $(seq "$reps"); do
    order="a b"
    [ $((r % 2)) = 0 ] && order="b a"
    for side in $order; do
      v=$(run "$side" "$t")
      [ -n "$v" ] || { echo "ab_builds.sh: a $t run of ${!side} printed no figure" >&2; exit 1; }
      echo "$v" >>"$work/$t.$side"
    done
  done
  ma=$(median <"$work/$t.a") mb=$(median <"$work/$t.b")
  case $t in
    lat) name="latency 8 B (us)" ;;
    bw) name="bandwidth 4 MiB (MB/s)" ;;
    allreduce) name="allreduce 8 B, 4 ranks (us)" ;;
  esac
  printf '%-28s %10s %10s %8.3f %10s %10s  %s | %s\n' "$name" "$ma" "$mb" \
    "$(awk -v x="$ma" -v y="$mb" 'BEGIN { print y / x }')" "$(best "$t" <"$work/$t.a")" \
    "$(best "$t" <"$work/$t.b")" "$(tr '\n' ' ' <"$work/$t.a")" "$(tr '\n' ' ' <"$work/$t.b")"
done
