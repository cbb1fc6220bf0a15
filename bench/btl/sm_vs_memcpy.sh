#!/usr/bin/env bash
# btl/sm latency and bandwidth between two ranks against memcpy, for both
# large-transfer mechanisms (CMA single copy; copy-in/copy-out through the
# rings), in one run. Prints the tables; --write updates docs/PERFORMANCE.md.
#   bench/btl/sm_vs_memcpy.sh [--reps N] [--build DIR] [--write]
set -euo pipefail
cd "$(dirname "$0")/../.."
. bench/lib/doc_section.sh
reps=7 build=build write=0
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --write) write=1; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "sm_vs_memcpy.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$build/bin/btl_bench" ] || { echo "sm_vs_memcpy.sh: build first (cmake --build $build)" >&2; exit 1; }
run() { "$build/bin/mrun" -n 2 --bind-to core --mca btl self,sm --mca btl_sm_single_copy_mechanism "$1" "$build/bin/btl_bench" --reps "$reps"; }
cma=$(run cma)
ring=$(run none)
ceiling=$("$build/bin/cma_ceiling")
row() { awk -v s="$2" '$1 == s { print }' <<<"$1"; }
ratio_at() { row "$1" "$2" | awk '{ print $5 }'; }
summary=$(printf 'At 4 MiB: CMA single copy reaches **%s** of memcpy, the ring pipeline **%s**. 8-byte latency: %s us (CMA run), %s us (ring run).' \
  "$(ratio_at "$cma" 4194304)" "$(ratio_at "$ring" 4194304)" \
  "$(row "$cma" 8 | awk '{print $2}')" "$(row "$ring" 8 | awk '{print $2}')")
summary="$summary Raw process_vm_readv against memcpy at 4 MiB, no mrail involved: $(awk '$1 == 4194304 { print $4 }' <<<"$ceiling") (bench/btl/cma_ceiling.c), the ceiling of any CMA path here."
printf '%s\n\n%s\n\n%s\n\n%s\n' "$cma" "$ring" "$ceiling" "$summary"

if [ "$write" = 1 ]; then
  section=$(printf '<!-- sm:begin -->\n## btl/sm against memcpy\n\nTwo ranks bound to the 2 CPUs, btl level (no PML yet), medians of %d; measured on %s with:\n\n    bench/btl/sm_vs_memcpy.sh --reps %d --write\n\nLatency is half a ping-pong round trip (sends up to the max send size); bandwidth streams a window of 64 sends, or 8 rendezvous gets above the max send size; memcpy copies the same sizes inside one rank (cache-hot up to the last level cache).\n\n```\n%s\n\n%s\n\n# cma_ceiling: raw process_vm_readv vs memcpy\n%s\n```\n\n%s\n<!-- sm:end -->' \
    "$reps" "$(date -u +%Y-%m-%d)" "$reps" "$cma" "$ring" "$ceiling" "$summary")
  write_doc_section sm "$section"
  echo "sm_vs_memcpy.sh: wrote docs/PERFORMANCE.md"
fi
