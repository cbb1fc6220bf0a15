#!/usr/bin/env bash
# A Slurm cluster of emulated nodes on this machine, for the runtime tests:
# one munged, one slurmctld and one slurmd per node (n1..nN, all on this
# host, each with its own spool and TmpFS), Debian's slurm-wlm packages.
#   slurm_cluster.sh up DIR [NODES]   writes DIR/mrail-test-slurm.conf (point
#                                     SLURM_CONF at it) and starts the daemons;
#                                     returns once every node is idle
#   slurm_cluster.sh down DIR         stops them and removes DIR
# The defaults are Slurm's: KillOnBadExit=0, so a dead task does not end its
# step by itself. Daemons left by an earlier run (any DIR) are stopped first:
# the ports (16817, 16818, 16821..) are fixed.
set -eu
cmd=${1:-} dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ] || [ "$cmd" = -h ] || [ "$cmd" = --help ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
  [ "$cmd" = -h ] || [ "$cmd" = --help ]; exit
fi
stop_all() {
  pkill -f '[m]rail-test-slurm.conf' 2>/dev/null || true
  pkill -f '[m]rail-test-munge' 2>/dev/null || true
  for _ in $(seq 50); do
    pgrep -f '[m]rail-test-slurm.conf|[m]rail-test-munge' >/dev/null || return 0
    sleep 0.1
  done
  pkill -9 -f '[m]rail-test-slurm.conf|[m]rail-test-munge' 2>/dev/null || true
}
case $cmd in
  down) stop_all; rm -rf "$dir"; exit 0 ;;
  up) ;;
  *) echo "slurm_cluster.sh: unknown command $cmd (up or down)" >&2; exit 2 ;;
esac
nodes=${3:-3}
[ "$(id -u)" -eq 0 ] || { echo "slurm_cluster.sh: needs root (slurmd runs tasks as their user)" >&2; exit 1; }
for b in munged mungekey slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] ||
    { echo "slurm_cluster.sh: $b missing (tools/setup-debian.sh installs slurmd, slurmctld, munge)" >&2; exit 1; }
done
export PATH=$PATH:/usr/sbin
stop_all
rm -rf "$dir"
mkdir -p "$dir/munge" "$dir/state" "$dir/log"
dir=$(cd "$dir" && pwd)
chmod 700 "$dir/munge"
mungekey --create --keyfile="$dir/munge/key" >/dev/null
munged --force --socket="$dir/munge/mrail-test-munge.sock" --key-file="$dir/munge/key" \
  --pid-file="$dir/munge/pid" --log-file="$dir/munge/log" --seed-file="$dir/munge/seed"
host=$(hostname -s)
conf=$dir/mrail-test-slurm.conf
cat >"$conf" <<CONF
ClusterName=mrailtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/mrail-test-munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
TmpFS=$dir/tmp/%n
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.%n.log
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
InactiveLimit=0
KillWait=5
MinJobAge=30
PlugStackConfig=/dev/null
NodeName=n[1-$nodes] NodeHostname=$host NodeAddr=127.0.0.1 CPUs=8 RealMemory=2000 State=UNKNOWN Port=[16821-$((16820 + nodes))]
PartitionName=mrail Nodes=n[1-$nodes] Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
CONF
export SLURM_CONF=$conf
slurmctld -f "$conf"
for i in $(seq 1 "$nodes"); do
  mkdir -p "$dir/spool/n$i" "$dir/tmp/n$i"
  slurmd -f "$conf" -N "n$i"
done
for _ in $(seq 100); do
  idle=$(sinfo -h -t idle -o '%D' 2>/dev/null | head -n 1)
  [ "${idle:-0}" = "$nodes" ] && exit 0
  sleep 0.2
done
echo "slurm_cluster.sh: the nodes did not come up within 20 s; logs in $dir/log:" >&2
tail -n 5 "$dir"/log/*.log >&2 || true
exit 1
