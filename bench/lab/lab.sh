#!/usr/bin/env bash
# The multi-rail lab: emulated hosts (network namespaces) joined by rails,
# each rail its own bridge and subnet, each host's egress on each rail
# shaped with tc (tbf) to a rate; plus a control bridge for mrun's PMIx
# server. Root only. Hosts are PREFIX-0.., rail R is interface railR with
# address 10.SUBNET.R.(host+2); the control bridge is PREFIXbr. A rail
# written RATE/LOSS% (e.g. 500mbit/5%) also drops that share of each host's
# packets on it at random (a tc bpf program, as the kernel has no netem).
#   bench/lab/lab.sh up --rails 500mbit,250mbit/5% [--hosts 2] [--prefix mrl] [--subnet 77]
#   bench/lab/lab.sh down [--hosts 2] [--rails N|LIST] [--prefix mrl]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd=${1:-} prefix=mrl hosts=2 rails="" subnet=77
case $cmd in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
shift || true
while [ $# -gt 0 ]; do
  case $1 in
    --rails) rails=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --subnet) subnet=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "lab.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "lab.sh: needs root (network namespaces, tc)" >&2; exit 1; }
hosts_sh=tests/runtime/netns_hosts.sh
IFS=, read -r -a rates <<<"$rails"
case $cmd in
  up)
    [ ${#rates[@]} -gt 0 ] || { echo "lab.sh: up needs --rails RATE[,RATE...] (tc rates, e.g. 500mbit)" >&2; exit 2; }
    losses=()
    for r in "${!rates[@]}"; do
      spec=${rates[$r]} loss=0
      if [[ $spec == */* ]]; then
        loss=${spec#*/} loss=${loss%\%}
        [[ $loss =~ ^[0-9]+(\.[0-9])?$ ]] && awk -v l="$loss" 'BEGIN { exit !(l > 0 && l < 100) }' ||
          { echo "lab.sh: rail $spec: the loss must be a percentage above 0 and below 100, e.g. 500mbit/5%" >&2; exit 2; }
      fi
      rates[$r]=${spec%%/*} losses[$r]=$loss
    done
    "$hosts_sh" down "$prefix" "$hosts" 8 # a crash may have left a lab behind
    "$hosts_sh" up "$prefix" "$subnet" "$hosts" "${#rates[@]}"
    bpf_dir=$(mktemp -d)
    trap 'rm -rf "$bpf_dir"' EXIT
    for h in $(seq 0 $((hosts - 1))); do
      for r in $(seq 1 ${#rates[@]}); do
        ip netns exec "$prefix-$h" tc qdisc add dev "rail$r" root tbf rate "${rates[$((r - 1))]}" \
          burst 256kb latency 50ms
        loss=${losses[$((r - 1))]}
        [ "$loss" = 0 ] && continue
        permille=$(awk -v l="$loss" 'BEGIN { printf "%d", l * 10 + 0.5 }')
        obj=$bpf_dir/drop_$permille.o
        [ -f "$obj" ] || clang -O2 -target bpf -DPERMILLE="$permille" \
          -c tests/runtime/drop_random.bpf.c -o "$obj" ||
          { echo "lab.sh: cannot build the loss program (needs clang: tools/setup-debian.sh --bench)" >&2; exit 1; }
        ip netns exec "$prefix-$h" tc qdisc add dev "rail$r" clsact
        ip netns exec "$prefix-$h" tc filter add dev "rail$r" egress bpf da obj "$obj" sec classifier
      done
    done
    echo "lab.sh: $hosts hosts ($prefix-0..) on rails ${rails}; control bridge ${prefix}br, subnets 10.$subnet.R.0/24" ;;
  down)
    "$hosts_sh" down "$prefix" "$hosts" 8 ;;
  *) echo "lab.sh: unknown command '${cmd:-}': say up or down (see --help)" >&2; exit 2 ;;
esac
