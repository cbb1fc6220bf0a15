#!/usr/bin/env bash
# The multi-rail lab: emulated hosts (network namespaces) joined by rails,
# each rail its own bridge and subnet, each host's egress on each rail
# shaped with tc (tbf) to a rate; plus a control bridge for mrun's PMIx
# server. Root only. Hosts are PREFIX-0.., rail R is interface railR with
# address 10.SUBNET.R.(host+2); the control bridge is PREFIXbr.
#   bench/lab/lab.sh up --rails 500mbit,250mbit [--hosts 2] [--prefix mrl] [--subnet 77]
#   bench/lab/lab.sh down [--hosts 2] [--rails N|LIST] [--prefix mrl]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd=${1:-} prefix=mrl hosts=2 rails="" subnet=77
shift || true
while [ $# -gt 0 ]; do
  case $1 in
    --rails) rails=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --subnet) subnet=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "lab.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "lab.sh: needs root (network namespaces, tc)" >&2; exit 1; }
hosts_sh=tests/runtime/netns_hosts.sh
IFS=, read -r -a rates <<<"$rails"
case $cmd in
  up)
    [ ${#rates[@]} -gt 0 ] || { echo "lab.sh: up needs --rails RATE[,RATE...] (tc rates, e.g. 500mbit)" >&2; exit 2; }
    "$hosts_sh" down "$prefix" "$hosts" 8 # a crash may have left a lab behind
    "$hosts_sh" up "$prefix" "$subnet" "$hosts" "${#rates[@]}"
    for h in $(seq 0 $((hosts - 1))); do
      for r in $(seq 1 ${#rates[@]}); do
        ip netns exec "$prefix-$h" tc qdisc add dev "rail$r" root tbf rate "${rates[$((r - 1))]}" \
          burst 256kb latency 50ms
      done
    done
    echo "lab.sh: $hosts hosts ($prefix-0..) on rails ${rails}; control bridge ${prefix}br, subnets 10.$subnet.R.0/24" ;;
  down)
    "$hosts_sh" down "$prefix" "$hosts" 8 ;;
  *) echo "lab.sh: say up or down (see --help)" >&2; exit 2 ;;
esac
