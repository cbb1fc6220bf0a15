#!/usr/bin/env bash
# Emulated hosts for the runtime tests: N network namespaces joined by one
# bridge in the root namespace (where mrun's PMIx server listens).
#   netns_hosts.sh up PREFIX SUBNET N [RAILS]
#       namespaces PREFIX-0..N-1 on a control bridge PREFIXbr (10.SUBNET.0.1; host i is
#       10.SUBNET.0.(i+2) on its eth0), plus RAILS data rails: bridge PREFIXrR, subnet
#       10.SUBNET.R.0/24, host i is 10.SUBNET.R.(i+2) on its interface railR
#   netns_hosts.sh down PREFIX N [RAILS]   removes all of it (also half-built leftovers)
# up exits with 3 when 10.SUBNET.0.1 is already on an interface here (hosts a
# killed run left up): a second bridge on the same subnet would take the
# route, and the new hosts' connections would wait for ever.
set -eu
cmd=$1 prefix=$2
if [ "$cmd" = down ]; then
  n=$3 rails=${4:-0}
  for i in $(seq 0 $((n - 1))); do ip netns del "$prefix-$i" 2>/dev/null || true; done
  ip link del "${prefix}br" 2>/dev/null || true
  for r in $(seq 1 "$rails"); do ip link del "${prefix}r$r" 2>/dev/null || true; done
  exit 0
fi
subnet=$3 n=$4 rails=${5:-0}
[ "$(id -u)" -eq 0 ] || { echo "netns_hosts.sh: needs root (network namespaces)" >&2; exit 1; }
# The control bridge gets a kernel index below 32768 of its own choosing:
# libpmix 4.2 keeps interface indexes in 16 signed bits, so on a machine that
# has created 32768+ interfaces since boot (every test run makes some) its
# server cannot listen on a fresh bridge (mrun says so). Try from a base
# derived from the subnet; an index in use fails with "File exists".
if ip link show "${prefix}br" >/dev/null 2>&1; then
  echo "netns_hosts.sh: ${prefix}br exists already (netns_hosts.sh down $prefix N removes it)" >&2
  exit 1
fi
taken=$(ip -4 -o addr show | awk -v a="10.$subnet.0.1/" 'index($4, a) == 1 {print $2}')
if [ -n "$taken" ]; then
  echo "netns_hosts.sh: subnet 10.$subnet.0.0/24 is in use on $taken (stale hosts: netns_hosts.sh down ${taken%br} N RAILS)" >&2
  exit 3
fi
idx=$((4096 + subnet * 64))
until ip link add name "${prefix}br" index "$idx" type bridge 2>/dev/null; do
  idx=$((idx + 1))
  [ "$idx" -lt 32768 ] || { echo "netns_hosts.sh: no free interface index below 32768" >&2; exit 1; }
done
ip addr add "10.$subnet.0.1/24" dev "${prefix}br"
ip link set "${prefix}br" up
for i in $(seq 0 $((n - 1))); do
  ns="$prefix-$i"
  ip netns add "$ns"
  ip link add "${prefix}h$i" type veth peer name eth0 netns "$ns"
  ip link set "${prefix}h$i" master "${prefix}br" up
  ip -n "$ns" addr add "10.$subnet.0.$((i + 2))/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done
for r in $(seq 1 "$rails"); do
  ip link add "${prefix}r$r" type bridge
  ip link set "${prefix}r$r" up
  for i in $(seq 0 $((n - 1))); do
    ns="$prefix-$i"
    ip link add "${prefix}h${i}r$r" type veth peer name "rail$r" netns "$ns"
    ip link set "${prefix}h${i}r$r" master "${prefix}r$r" up
    ip -n "$ns" addr add "10.$subnet.$r.$((i + 2))/24" dev "rail$r"
    ip -n "$ns" link set "rail$r" up
  done
done
