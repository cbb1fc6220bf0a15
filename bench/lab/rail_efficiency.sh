#!/usr/bin/env bash
# Rail efficiency in the multi-rail lab. For each scenario (a set of rails
# shaped with tc), iperf3 measures each rail alone (one TCP stream); then
# mrail, Open MPI (btl self,tcp over the same rails, launched by mpirun
# through bench/lab/netns_agent.sh) and UCX (ucx_perftest tag_bw,
# UCX_NET_DEVICES = the rails) stream 64 KiB .. 4 MiB messages between the
# two emulated hosts over all of the scenario's rails, in the same run.
# Efficiency = bandwidth / the sum of the per-rail iperf3 figures. No rail
# speed is set by hand for anyone: veths all claim 10 Gbit/s. Root only.
# Each stack runs --reps times (default 3), interleaved; the median per size counts.
# Stacks mrail_ofi and mrail_uct run mrail over btl/ofi (libfabric's tcp
# provider) and btl/uct (UCX's tcp transport) on the same rails; mrail_mixed
# puts btl/tcp on rail1 and btl/ofi on the others (equal exclusivity); fi
# is libfabric's own fi_pingpong on rail1 (one-rail scenarios only).
# --mode bibw: both ranks stream at once (osu bibw, both directions summed)
# against twice the iperf3 sum (mrail and Open MPI only); --links N: that many
# TCP connections per rail for both MPIs (btl_tcp_links).
#   bench/lab/rail_efficiency.sh [--build DIR] [--stacks mrail,openmpi,ucx,mrail_ofi,...] [--reps N]
#                                [--mode bw|bibw] [--links N] [--write] [--progress] [SCENARIO...]
# A scenario is a comma-separated list of tc rates, each optionally with
# random loss as RATE/LOSS% (see lab.sh); default:
#   500mbit 500mbit,500mbit 500mbit,500mbit,500mbit 500mbit,250mbit
# --write updates docs/PERFORMANCE.md and docs/lab_bandwidth.png (gnuplot);
# --progress says on stderr what runs (scenario, rail or stack, repetition).
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
. bench/lib/iperf_rail.sh
cmdline="$*"
build=build write=0 scenarios=() stacks=mrail,openmpi,ucx reps=3 mode=bw links=1 progress=0
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --stacks) stacks=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --links) links=$2; shift 2 ;;
    --write) write=1; shift ;;
    --progress) progress=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "rail_efficiency.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(500mbit 500mbit,500mbit 500mbit,500mbit,500mbit 500mbit,250mbit)
[ "$(id -u)" -eq 0 ] || { echo "rail_efficiency.sh: needs root (network namespaces, tc)" >&2; exit 1; }
case $mode in bw|bibw) ;; *) echo "rail_efficiency.sh: --mode $mode: valid modes are bw and bibw" >&2; exit 2 ;; esac
[[ $links =~ ^[0-9]+$ ]] && [ "$links" -ge 1 ] && [ "$links" -le 16 ] ||
  { echo "rail_efficiency.sh: --links $links: give 1 to 16" >&2; exit 2; }
[ "$mode" = bw ] || [[ ,$stacks, != *,ucx,* ]] ||
  { echo "rail_efficiency.sh: --mode bibw runs mrail and Open MPI only (--stacks mrail,openmpi)" >&2; exit 2; }
IFS=, read -r -a stack_list <<<"$stacks"
need=(iperf3)
for s in "${stack_list[@]}"; do
  case $s in
    mrail|mrail_ofi|mrail_uct|mrail_mixed) ;;
    openmpi) need+=(mpicc.openmpi mpirun.openmpi) ;;
    ucx) need+=(ucx_perftest) ;;
    fi) need+=(fi_pingpong) ;;
    *) echo "rail_efficiency.sh: unknown stack $s (valid: mrail, openmpi, ucx, mrail_ofi, mrail_uct, mrail_mixed, fi)" >&2; exit 2 ;;
  esac
done
[ "$write" = 0 ] || need+=(gnuplot)
for tool in "${need[@]}"; do
  command -v "$tool" >/dev/null || { echo "rail_efficiency.sh: $tool missing (tools/setup-debian.sh --bench)" >&2; exit 1; }
done
[ -x "$build/bin/mpicc" ] || { echo "rail_efficiency.sh: build mrail first (cmake --build $build)" >&2; exit 1; }
work=$(mktemp -d)
prefix=mrl subnet=77 min=65536 max=4194304
trap 'bench/lab/lab.sh down --prefix $prefix >/dev/null 2>&1; rm -rf "$work"' EXIT
"$build/bin/mpicc" -O2 -o "$work/osu.mrail" bench/osu/osu_p2p.c
case ",$stacks," in *,openmpi,*) mpicc.openmpi -O2 -o "$work/osu.openmpi" bench/osu/osu_p2p.c 2>/dev/null ;; esac

# Each prints "size MB/s" lines (MB = 10^6 bytes) for min..max.
# A run that hangs or fails (seen once with Open MPI) counts as missing, not as the script's end.
run_mrail() { # include [--mca pairs instead of btl/tcp's]
  local include=$1
  shift
  [ $# -gt 0 ] || set -- --mca btl self,tcp --mca btl_tcp_if_include "$include" --mca btl_tcp_links "$links"
  timeout 600 "$build/bin/mrun" -n 2 --netns "$prefix-0,$prefix-1" --pmix-if "${prefix}br" \
    "$@" "$work/osu.mrail" "$mode" --min $min --max $max --iters 4 | grep -v '^#' || true
}
run_mrail_ofi() { # devices
  run_mrail "" --mca btl self,ofi --mca btl_ofi_provider_include tcp --mca btl_ofi_domain_include "$1"
}
run_mrail_uct() { # devices
  run_mrail "" --mca btl self,uct --mca btl_uct_transports tcp --mca btl_uct_device_include "$1"
}
run_mrail_mixed() { # devices: tcp on the first, ofi on the rest
  [[ $1 == *,* ]] || return 0
  run_mrail "" --mca btl self,tcp,ofi --mca btl_tcp_if_include "${1%%,*}" \
    --mca btl_ofi_provider_include tcp --mca btl_ofi_domain_include "${1#*,}" --mca btl_ofi_exclusivity 100
}
run_fi() { # devices: fi_pingpong over the first rail, one size at a time
  [[ $1 != *,* ]] || return 0
  local size=$min
  while [ $size -le $max ]; do
    ip netns exec "$prefix-1" timeout 120 fi_pingpong -p tcp -e rdm -d rail1 \
      -S $size -I 200 >/dev/null 2>&1 &
    sleep 0.5
    # The result line: bytes iters total time MB/sec usec/xfer Mxfers/sec; MB/sec is 10^6/s.
    ip netns exec "$prefix-0" timeout 120 fi_pingpong -p tcp -e rdm -d rail1 \
      -S $size -I 200 "10.$subnet.1.3" 2>/dev/null |
      awk -v s=$size '$1 ~ /^[0-9]/ && NF >= 7 { printf "%d %.2f\n", s, $(NF-2) }'
    wait
    size=$((size * 2))
  done
}
run_openmpi() { # include
  timeout 600 mpirun.openmpi --allow-run-as-root -n 2 -host "$prefix-0,$prefix-1" \
    --mca plm_rsh_agent "$PWD/bench/lab/netns_agent.sh" --mca plm_rsh_no_tree_spawn 1 \
    --mca oob_tcp_if_include "10.$subnet.0.0/24" --mca btl self,tcp --mca btl_tcp_if_include "$1" \
    --mca btl_tcp_links "$links" \
    "$work/osu.openmpi" "$mode" --min $min --max $max --iters 4 | grep -v '^#' || true
}
run_ucx() { # devices
  local size=$min
  while [ $size -le $max ]; do
    local n=$(( (256 << 20) / size ))
    ip netns exec "$prefix-1" env UCX_NET_DEVICES="$1" UCX_TLS=tcp,self \
      timeout 120 ucx_perftest -p 13337 >/dev/null 2>&1 &
    sleep 0.5
    # "Final:" line; the 7th field is the overall bandwidth in MiB/s.
    ip netns exec "$prefix-0" env UCX_NET_DEVICES="$1" UCX_TLS=tcp,self \
      timeout 120 ucx_perftest "10.$subnet.0.3" -p 13337 -t tag_bw -s $size -n $n -w 8 2>/dev/null |
      awk -v s=$size '/^Final:/ { printf "%d %.2f\n", s, $7 * 1048576 / 1e6 }'
    wait
    size=$((size * 2))
  done
}

# progress SCENARIO_INDEX WHAT: one line on stderr with --progress.
progress() {
  [ "$progress" = 1 ] || return 0
  printf 'rail_efficiency: [%s/%s %s] %s (%d s)\n' "$1" "${#scenarios[@]}" "${scenarios[$1 - 1]}" \
    "$2" "$SECONDS" >&2
}
rows="" plots="" si=0
for sc in "${scenarios[@]}"; do
  si=$((si + 1))
  IFS=, read -r -a rates <<<"$sc"
  n=${#rates[@]}
  bench/lab/lab.sh up --rails "$sc" --prefix "$prefix" --subnet $subnet >/dev/null
  ref=0 per=""
  for r in $(seq 1 "$n"); do
    progress $si "iperf3 on rail $r of $n alone"
    mbit=$(iperf_rail "$prefix" "$subnet" "$r")
    per="$per${per:+ + }$mbit"
    ref=$(awk -v a="$ref" -v b="$mbit" 'BEGIN { print a + b }')
  done
  include=$(seq -s, -f "10.$subnet.%g.0/24" 1 "$n")
  devices=$(seq -s, -f "rail%g" 1 "$n")
  tag=$(tr ',/%' '+_p' <<<"$sc")
  for r in $(seq "$reps"); do
    for s in "${stack_list[@]}"; do
      progress $si "$s over all $n rails, run $r of $reps"
      case $s in
        mrail) run_mrail "$include" > "$work/$tag.$s.$r" ;;
        openmpi) run_openmpi "$include" > "$work/$tag.$s.$r" ;;
        ucx) run_ucx "$devices" > "$work/$tag.$s.$r" ;;
        mrail_ofi|mrail_uct|mrail_mixed|fi) "run_$s" "$devices" > "$work/$tag.$s.$r" ;;
      esac
    done
  done
  for s in "${stack_list[@]}"; do # median per size over the reps
    cat "$work/$tag.$s".* | sort -k1,1n -k2,2g |
      awk '{v[$1] = v[$1] " " $2; n[$1]++} END {for (k in v) {split(substr(v[k], 2), a, " "); print k, a[int((n[k] + 1) / 2)]}}' |
      sort -n > "$work/$tag.$s"
  done
  [ "$mode" = bw ] || ref=$(awk -v a="$ref" 'BEGIN { print 2 * a }') per="2 x ($per)"
  echo "$ref" > "$work/$tag.ref"
  for size in 1048576 4194304; do
    row=$(printf '| %s | %d MiB | %s = %.0f |' "$sc" $((size >> 20)) "$per" "$ref")
    for s in "${stack_list[@]}"; do
      mbs=$(awk -v s=$size '$1 == s { print $2 }' "$work/$tag.$s")
      if [ -z "$mbs" ]; then # a stack that does not run this scenario, or failed
        row="$row n/a |"
        continue
      fi
      row="$row$(awk -v m="${mbs:-0}" -v r="$ref" -v bold=$([ "$s" = mrail ] && echo '**') \
        'BEGIN { printf " %.0f (%s%.1f %%%s) |", m * 8, bold, 100 * m * 8 / r, bold }')"
    done
    rows="$rows$row"$'\n'
  done
  bench/lab/lab.sh down --prefix "$prefix" >/dev/null
done
header="| rails (tc rate) | message | iperf3 per rail, Mbit/s (sum) |"
rule="|---|---|---|"
for s in "${stack_list[@]}"; do header="$header $s, Mbit/s (efficiency) |"; rule="$rule---|"; done
table=$(printf '%s\n%s\n%s' "$header" "$rule" "$rows")
echo "$table"
[ "$write" = 1 ] || exit 0
if [[ ,$stacks, == *,mrail_ofi,* || ,$stacks, == *,mrail_uct,* || ,$stacks, == *,mrail_mixed,* ]]; then
  section=$(printf '<!-- lab_fabrics:begin -->\n## Multi-rail lab: btl/ofi and btl/uct on the same rails\n\nAs the one-direction lab table above (`osu_p2p.c bw`, medians of %s runs per stack, against one iperf3 stream per rail alone), with mrail over btl/tcp (`mrail`), over btl/ofi with libfabric'"'"'s tcp provider (`mrail_ofi`: `--mca btl self,ofi --mca btl_ofi_provider_include tcp --mca btl_ofi_domain_include rail1,..`), over btl/uct with UCX'"'"'s tcp transport (`mrail_uct`: `--mca btl self,uct --mca btl_uct_transports tcp --mca btl_uct_device_include rail1,..`), and btl/tcp on rail1 striped with btl/ofi on the other rails (`mrail_mixed`, `btl_ofi_exclusivity 100`); UCX'"'"'s own `ucx_perftest -t tag_bw` over the same rails (`ucx`), and libfabric'"'"'s own `fi_pingpong -p tcp -e rdm -d rail1` on one-rail scenarios (`fi`: its MB/s counts the bytes of both directions of a ping-pong, so it is no streaming figure and can pass 100 %; Debian ships no libfabric streaming tool). Measured on %s with:\n\n    sudo bench/lab/rail_efficiency.sh %s\n\n%s\n<!-- lab_fabrics:end -->' \
    "$reps" "$(date -u +%Y-%m-%d)" "$cmdline" "$table")
  write_doc_section lab_fabrics "$section"
  echo "rail_efficiency.sh: wrote docs/PERFORMANCE.md"
  exit 0
fi
if [ "$mode" = bibw ] || [ "$links" != 1 ]; then # a table of its own, no plot
  what="one direction"
  [ "$mode" = bibw ] && what="both directions at once"
  how="As the one-direction table below, with"
  [ "$mode" = bibw ] && how="As the one-direction table, but both ranks stream to each other at once (\`osu_p2p.c bibw\`, both directions summed), against twice the sum of the per-rail iperf3 figures;"
  section=$(printf '<!-- lab_%s_links%s:begin -->\n## Multi-rail lab, %s (%s link(s) per rail)\n\n%s `btl_tcp_links %s` for both MPIs; medians of %s runs per stack. Measured on %s with:\n\n    sudo bench/lab/rail_efficiency.sh %s\n\n%s\n<!-- lab_%s_links%s:end -->' \
    "$mode" "$links" "$what" "$links" "$how" "$links" "$reps" "$(date -u +%Y-%m-%d)" "$cmdline" "$table" "$mode" "$links")
  write_doc_section "lab_${mode}_links$links" "$section"
  echo "rail_efficiency.sh: wrote docs/PERFORMANCE.md"
  exit 0
fi

# One panel per scenario: a line per stack, the iperf3 sum dashed.
png=docs/lab_bandwidth.png
{
  echo "set terminal pngcairo size 1400,900 font ',10'; set output '$png'"
  cols=$(( ${#scenarios[@]} > 4 ? 3 : 2 ))
  echo "set multiplot layout $(( (${#scenarios[@]} + cols - 1) / cols )),$cols title 'Multi-rail lab: streaming bandwidth between two emulated hosts (tc-shaped rails)'"
  echo "set logscale x 2; set xlabel 'message size (bytes)'; set ylabel 'Mbit/s'; set key bottom right; set grid"
  for sc in "${scenarios[@]}"; do
    tag=$(tr ',/%' '+_p' <<<"$sc")
    ref=$(cat "$work/$tag.ref")
    echo "set title 'rails: $sc'; set yrange [0:$(awk -v r="$ref" 'BEGIN { print r * 1.15 }')]"
    line="plot $ref with lines dashtype 2 lc rgb 'gray' title 'iperf3, sum of rails alone'"
    for s in "${stack_list[@]}"; do
      line="$line, '$work/$tag.$s' using 1:(\$2 * 8) with linespoints lw 2 title '$s'"
    done
    echo "$line"
  done
  echo "unset multiplot"
} | gnuplot
ucx_note=""
case ",$stacks," in *,ucx,*) ucx_note=" UCX: \`ucx_perftest -t tag_bw\` with \`UCX_TLS=tcp,self UCX_NET_DEVICES=rail1,..\` (its defaults otherwise; UCX's own MB/s converted)." ;; esac
section=$(printf '<!-- lab:begin -->\n## Multi-rail lab: rail efficiency over emulated NICs\n\nTwo emulated hosts (network namespaces) joined by rails shaped with tc tbf; each stack streams over every rail of the scenario (`bench/osu/osu_p2p.c bw`, windows of 64 messages, the same program built with each MPI), against one iperf3 TCP stream per rail alone, all in one run, medians of %s runs per stack. No rail speed is set by hand for any stack (veths all claim 10 Gbit/s): mrail finds unequal rails by the rates its receivers measure. Open MPI 4.1: `--mca btl self,tcp --mca btl_tcp_if_include <the rails>`, launched by mpirun through `bench/lab/netns_agent.sh`.%s Measured on %s with:\n\n    sudo bench/lab/rail_efficiency.sh %s\n\n%s\n\n![bandwidth per stack and rail set](lab_bandwidth.png)\n<!-- lab:end -->' \
  "$reps" "$ucx_note" "$(date -u +%Y-%m-%d)" "$cmdline" "$table")
write_doc_section lab "$section"
echo "rail_efficiency.sh: wrote docs/PERFORMANCE.md and $png"
