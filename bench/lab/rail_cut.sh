#!/usr/bin/env bash
# Bandwidth over time across a rail cut and its return, in the multi-rail
# lab: two emulated hosts, two tc-shaped rails; mrail streams 1 MiB messages
# (bench/lab/stream_timeline.c) from host 0 to host 1; at --cut seconds host
# 1 takes rail2 down, at --back it brings it up again. Prints the timeline
# and how long each transition took; with --write updates
# docs/PERFORMANCE.md and docs/lab_rail_cut.png. Root only.
#   bench/lab/rail_cut.sh [--build DIR] [--rails 300mbit,300mbit] [--seconds 20]
#                         [--cut 4] [--back 10] [--user-timeout MS] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
build=build rails=300mbit,300mbit seconds=20 cut=4 back=10 write=0 user_timeout=""
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --rails) rails=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --cut) cut=$2; shift 2 ;;
    --back) back=$2; shift 2 ;;
    --user-timeout) user_timeout=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "rail_cut.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "rail_cut.sh: needs root (network namespaces, tc)" >&2; exit 1; }
[ -x "$build/bin/mpicc" ] || { echo "rail_cut.sh: build mrail first (cmake --build $build)" >&2; exit 1; }
awk -v c="$cut" -v b="$back" -v s="$seconds" 'BEGIN { exit !(0 < c && c < b && b < s) }' ||
  { echo "rail_cut.sh: need 0 < --cut ($cut) < --back ($back) < --seconds ($seconds)" >&2; exit 2; }
[ "$write" = 0 ] || command -v gnuplot >/dev/null || { echo "rail_cut.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }
prefix=mrx subnet=78
work=$(mktemp -d)
trap 'bench/lab/lab.sh down --prefix $prefix >/dev/null 2>&1; rm -rf "$work"' EXIT
"$build/bin/mpicc" -O2 -o "$work/stream" bench/lab/stream_timeline.c
bench/lab/lab.sh up --rails "$rails" --prefix $prefix --subnet $subnet >/dev/null
mca=(--mca btl self,tcp --mca btl_tcp_if_include "10.$subnet.1.0/24,10.$subnet.2.0/24")
[ -z "$user_timeout" ] || mca+=(--mca btl_tcp_user_timeout "$user_timeout")
"$build/bin/mrun" -n 2 --netns "$prefix-0,$prefix-1" --pmix-if "${prefix}br" "${mca[@]}" \
  "$work/stream" --seconds "$seconds" > "$work/timeline" &
job=$!
t0=$(date +%s.%N)
sleep "$cut"; ip netns exec "$prefix-1" ip link set rail2 down; tcut=$(date +%s.%N)
sleep "$(awk -v a="$back" -v b="$cut" 'BEGIN { print a - b }')"
ip netns exec "$prefix-1" ip link set rail2 up; tback=$(date +%s.%N)
wait "$job"
# Rates: before the cut (both rails), between cut+2 s and the return (one
# rail); when the rate first reached 90 % of the one-rail rate after the
# cut, and 90 % of the two-rail rate after the return.
summary=$(awk -v tc="$tcut" -v tb="$tback" '
  /^#/ { next }
  { t[NR] = $1; r[NR] = $2; n = NR }
  END {
    for (i = 1; i <= n; i++) {
      if (t[i] > tc - 3 && t[i] < tc - 0.2) { two += r[i]; nt++ }
      if (t[i] > tc + 2 && t[i] < tb - 0.2) { one += r[i]; no++ }
    }
    two = nt ? two / nt : 0; one = no ? one / no : 0
    for (i = 1; i <= n; i++) {
      if (!a && t[i] > tc && r[i] >= 0.9 * one) a = t[i] - tc
      if (!b && t[i] > tb && r[i] >= 0.9 * two) b = t[i] - tb
    }
    printf "two rails %.1f MB/s; one rail %.1f MB/s; after the cut, 90 %% of one rail after %.2f s; after the return, 90 %% of two rails after %.2f s\n", two, one, a, b
  }' "$work/timeline")
echo "$summary"
[ "$write" = 1 ] || { cat "$work/timeline"; exit 0; }
png=docs/lab_rail_cut.png
ut=${user_timeout:-5000}
gnuplot <<GP
set terminal pngcairo noenhanced size 1000,500 font ',10'; set output '$png'
set title 'mrail over 2 x ${rails%%,*} rails: rail2 cut at ${cut} s, back at ${back} s (btl_tcp_user_timeout ${ut} ms)'
set xlabel 'seconds'; set ylabel 'MB/s received, per 100 ms'; set grid; set key top right
set arrow from $(awk -v a="$tcut" -v b="$t0" 'BEGIN{print a-b}'), graph 0 to $(awk -v a="$tcut" -v b="$t0" 'BEGIN{print a-b}'), graph 1 nohead dt 2 lc rgb 'red'
set arrow from $(awk -v a="$tback" -v b="$t0" 'BEGIN{print a-b}'), graph 0 to $(awk -v a="$tback" -v b="$t0" 'BEGIN{print a-b}'), graph 1 nohead dt 2 lc rgb 'dark-green'
plot '$work/timeline' using (\$1 - $t0):2 with lines lw 2 title 'mrail'
GP
cmd="sudo bench/lab/rail_cut.sh${user_timeout:+ --user-timeout $user_timeout} --write"
section=$(printf '<!-- railcut:begin -->\n## A rail cut and its return\n\nTwo emulated hosts, rails shaped to %s; mrail streams 1 MiB messages (windows of 8) from host 0 to host 1 (`bench/lab/stream_timeline.c`); host 1 takes rail2 down at %s s and up again at %s s; `btl_tcp_user_timeout` %s ms. Measured on %s with:\n\n    %s\n\n%s\n\n![bandwidth across a rail cut and its return](lab_rail_cut.png)\n<!-- railcut:end -->' \
  "$rails" "$cut" "$back" "$ut" "$(date -u +%Y-%m-%d)" "$cmd" "$summary")
write_doc_section railcut "$section"
echo "rail_cut.sh: wrote docs/PERFORMANCE.md and $png"
