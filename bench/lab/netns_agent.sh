#!/bin/sh
# Open MPI's launch agent for the lab (--mca plm_rsh_agent): called as
# "netns_agent.sh HOST COMMAND...", like ssh, it runs COMMAND inside the
# network namespace named HOST, so each emulated host runs its own orted.
[ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ] && { sed -n '2,4p' "$0"; exit 0; }
[ $# -ge 2 ] || { echo "netns_agent.sh: usage: netns_agent.sh NAMESPACE COMMAND..." >&2; exit 2; }
ns=$1
shift
exec ip netns exec "$ns" sh -c "$*"
