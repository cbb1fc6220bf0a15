#!/usr/bin/env bash
# Installs what building and testing mrail needs on a fresh Debian 12;
# with --bench also what the benchmarks compare against.
set -euo pipefail
case "${1:-}" in
  ''|--bench) ;;
  -h|--help) echo "usage: tools/setup-debian.sh [--bench]"; sed -n '2,3p' "$0" | sed 's/^# //'; exit 0 ;;
  *) echo "setup-debian.sh: unknown argument $1 (valid: --bench, --help)" >&2; exit 2 ;;
esac
packages=(
  build-essential g++ cmake ninja-build pkg-config util-linux
  libnuma-dev libpmix-dev libcriterion-dev          # required
  libfabric-dev libucx-dev libibverbs-dev librdmacm-dev  # optional components
  openmpi-bin                                        # the cross-launcher test
  iproute2 clang                                     # emulated hosts; the lossy rail's tc bpf program
  clang-format                                       # the formatting gate (tools/check-format.sh)
  libclang-rt-14-dev                                 # libFuzzer (tests/fuzz)
  valgrind                                           # memcheck of the p2p suite
  slurmd slurmctld slurm-client munge                # srun --mpi=pmix on emulated nodes
  meson                                              # a Meson project built with mpicc
  gdb                                                # backtraces of a run a test ends for taking too long
)
# --bench: what the side-by-side benchmarks and the multi-rail lab run.
if [ "${1:-}" = --bench ]; then
  packages+=(libopenmpi-dev libmpich-dev mpich iperf3 ucx-utils libfabric-bin gnuplot-nox python3)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup-debian: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
