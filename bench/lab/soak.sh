#!/usr/bin/env bash
# The soak as a bench run (issue 16): tests/mpi/mpi_soak.c on 16 ranks
# oversubscribed on this machine's cores, over two emulated hosts of the
# multi-rail lab (8 ranks each: btl/sm inside a host, two tc-shaped tcp
# rails between them), for --seconds (default 600). Prints rank 0's table
# of resident memory and open descriptors per rank (after the first round,
# at the end) and its summary line; exits non-zero when a byte was wrong or
# memory or descriptors were not flat. CI runs the same for a minute
# (tests/mpi/test_soak.c). Root only.
#   bench/lab/soak.sh [--build DIR] [--seconds 600] [--ranks 16] [--rails 500mbit,500mbit]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build seconds=600 ranks=16 rails=500mbit,500mbit
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --rails) rails=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "soak.sh: needs root (network namespaces, tc)" >&2; exit 1; }
[ -x "$build/bin/mpicc" ] || { echo "soak.sh: build mrail first (cmake --build $build)" >&2; exit 1; }
[[ $ranks =~ ^[0-9]+$ ]] && [ "$ranks" -ge 2 ] || { echo "soak.sh: --ranks must be 2 or more, not $ranks" >&2; exit 2; }
prefix=mrs subnet=79
work=$(mktemp -d)
trap 'bench/lab/lab.sh down --prefix $prefix >/dev/null 2>&1; rm -rf "$work"' EXIT
"$build/bin/mpicc" -O2 -o "$work/soak" tests/mpi/mpi_soak.c
bench/lab/lab.sh up --rails "$rails" --prefix $prefix --subnet $subnet >/dev/null
echo "soak: $ranks ranks, $seconds s, rails $rails, $(nproc) cores"
# Fixed malloc thresholds: resident memory follows what is held (mpi_soak.c).
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=262144 \
  "$build/bin/mrun" -n "$ranks" --oversubscribe --netns "$prefix-0,$prefix-1" --pmix-if "${prefix}br" \
  --mca btl self,sm,tcp --mca btl_tcp_if_include "10.$subnet.1.0/24,10.$subnet.2.0/24" \
  "$work/soak" --seconds "$seconds" </dev/null
