# Sourced by the lab bench scripts: one rail's iperf3 figure, alone (one
# TCP stream, 3 s), between the lab's two emulated hosts.
#   iperf_rail PREFIX SUBNET RAIL   prints Mbit/s, e.g. 478.4
iperf_rail() {
  local prefix=$1 subnet=$2 r=$3
  ip netns exec "$prefix-1" iperf3 -s -1 -B "10.$subnet.$r.3" -D >/dev/null
  sleep 0.3
  ip netns exec "$prefix-0" iperf3 -c "10.$subnet.$r.3" -B "10.$subnet.$r.2" -t 3 -J |
    python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
}
