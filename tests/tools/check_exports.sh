#!/usr/bin/env bash
# libmrail exports its API and nothing else: every defined dynamic symbol is
# an MPI_, PMPI_ or mrail_ name (the version script's) or one of the three
# memory-release hooks (munmap, mremap, madvise), every MPI_ function
# has its PMPI_ twin, and a few internal names known to have leaked once are
# gone. Usage: check_exports.sh LIBMRAIL
set -euo pipefail
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWDBRVi]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
[ -n "$syms" ] || { echo "check_exports: no symbols read from $lib" >&2; exit 1; }
# munmap, mremap, madvise: the memory-release hooks (rte_mem_release.c)
stray=$(grep -v -E '^(MPI_|PMPI_|mrail_)' <<<"$syms" | grep -v -x -E 'MRAIL_0|munmap|mremap|madvise' || true)
if [ -n "$stray" ]; then
  echo "check_exports: $lib exports names outside MPI_/PMPI_/mrail_:" >&2
  echo "$stray" | head -20 >&2
  exit 1
fi
missing=0
for f in $(grep -E '^MPI_' <<<"$syms"); do
  grep -qx "P$f" <<<"$syms" || { echo "check_exports: $f has no P$f" >&2; missing=1; }
done
[ "$missing" = 0 ] || exit 1
for name in coll_send match_post mpi_error btl_tcp_frag_new sched_plan_range; do
  if grep -qx "$name" <<<"$syms"; then
    echo "check_exports: internal $name is exported" >&2
    exit 1
  fi
done
for hook in munmap mremap madvise; do
  grep -qx "$hook" <<<"$syms" || { echo "check_exports: the memory-release hook $hook is not exported" >&2; exit 1; }
done
n_mpi=$(grep -c -E '^MPI_' <<<"$syms")
[ "$n_mpi" -ge 150 ] || { echo "check_exports: only $n_mpi MPI_ functions exported" >&2; exit 1; }
echo "check_exports: $(wc -l <<<"$syms") symbols, $n_mpi MPI_ with PMPI_ twins, nothing else"
