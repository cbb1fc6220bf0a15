#!/usr/bin/env bash
# Rail efficiency in the multi-rail lab: for each scenario, iperf3 measures
# each rail alone (one TCP stream), then mrail streams 1 and 4 MiB messages
# between two emulated hosts over all the scenario's rails. Efficiency =
# mrail's bandwidth / the sum of the per-rail iperf3 figures, same run. No
# rail speeds are set by hand: veths all claim 10 Gbit/s, so unequal rails
# are found by measured throughput. Root only. --write updates
# docs/PERFORMANCE.md.
#   bench/lab/rail_efficiency.sh [--build DIR] [--write] [SCENARIO...]
# A scenario is a comma-separated list of tc rates; default:
#   500mbit 500mbit,500mbit 500mbit,500mbit,500mbit 500mbit,250mbit
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
build=build write=0 scenarios=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "rail_efficiency.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(500mbit 500mbit,500mbit 500mbit,500mbit,500mbit 500mbit,250mbit)
command -v iperf3 >/dev/null || { echo "rail_efficiency.sh: iperf3 missing (apt-get install iperf3)" >&2; exit 1; }
[ -x "$build/bin/mpicc" ] || { echo "rail_efficiency.sh: build mrail first" >&2; exit 1; }
work=$(mktemp -d)
prefix=mrl subnet=77
trap 'bench/lab/lab.sh down --prefix $prefix >/dev/null 2>&1; rm -rf "$work"' EXIT
"$build/bin/mpicc" -O2 -o "$work/osu" bench/osu/osu_p2p.c

rows=""
for sc in "${scenarios[@]}"; do
  IFS=, read -r -a rates <<<"$sc"
  n=${#rates[@]}
  bench/lab/lab.sh up --rails "$sc" --prefix "$prefix" --subnet $subnet >/dev/null
  ref=0 per=""
  for r in $(seq 1 "$n"); do
    ip netns exec "$prefix-1" iperf3 -s -1 -B "10.$subnet.$r.3" -D >/dev/null
    sleep 0.3
    mbit=$(ip netns exec "$prefix-0" iperf3 -c "10.$subnet.$r.3" -B "10.$subnet.$r.2" -t 3 -J |
      python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))')
    per="$per${per:+ + }$mbit"
    ref=$(awk -v a="$ref" -v b="$mbit" 'BEGIN { print a + b }')
  done
  include=$(seq -s, -f "10.$subnet.%g.0/24" 1 "$n")
  out=$("$build/bin/mrun" -n 2 --netns "$prefix-0,$prefix-1" --pmix-if "${prefix}br" \
    --mca btl self,tcp --mca btl_tcp_if_include "$include" \
    "$work/osu" bw --min 1048576 --max 4194304 --iters 4)
  for size in 1048576 4194304; do
    mbs=$(awk -v s=$size '$1 == s { print $2 }' <<<"$out")
    eff=$(awk -v m="$mbs" -v r="$ref" 'BEGIN { printf "%.1f", 100 * m * 8 / r }')
    rows="$rows$(printf '| %s | %d MiB | %s = %.0f | %.0f | **%s %%** |' "$sc" $((size >> 20)) "$per" "$ref" \
      "$(awk -v m="$mbs" 'BEGIN { print m * 8 }')" "$eff")"$'\n'
  done
  bench/lab/lab.sh down --prefix "$prefix" >/dev/null
done
table=$(printf '| rails (tc rate) | message | iperf3 per rail, Mbit/s (sum) | mrail, Mbit/s | efficiency |\n|---|---|---|---|---|\n%s' "$rows")
echo "$table"
if [ "$write" = 1 ]; then
  section=$(printf '<!-- lab:begin -->\n## Multi-rail lab: rail efficiency over emulated NICs\n\nTwo emulated hosts (network namespaces) joined by rails shaped with tc tbf, mrail streaming over every rail (`bench/osu/osu_p2p.c bw`, windows of 64 messages), against one iperf3 TCP stream per rail alone, same run; no rail speed set by hand. Measured on %s with:\n\n    sudo bench/lab/rail_efficiency.sh --write\n\n%s\n\nNot yet measured here: Open MPI and UCX in the same lab (next session).\n<!-- lab:end -->' \
    "$(date -u +%Y-%m-%d)" "$table")
  write_doc_section lab "$section"
  echo "rail_efficiency.sh: wrote docs/PERFORMANCE.md"
fi
