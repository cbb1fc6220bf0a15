#!/usr/bin/env bash
# Every dependency points down. The build already refuses an upward include
# of a layer's own headers (each layer is an object library with its own
# include directories); this check covers what every layer can see, the
# contracts in include/: a source may include the contract of its own layer
# or of one below, and only the mpi layer calls MPI functions.
# Usage: check_layers.sh SOURCE_DIR
set -euo pipefail
cd "$1"
# Layers, lowest first; a folder's rank is its index here.
layers=(mca runtime btl rails pml mpiobj coll osc mpi)
rank_of() { for i in "${!layers[@]}"; do [ "${layers[$i]}" = "$1" ] && { echo "$i"; return; }; done; echo -1; }
# The layer each contract header belongs to.
owner_of() {
  case "$1" in
    mrail/mrail.h | mrail/version.h | mrail/mca.h | mrail/component.h) echo mca ;;
    mrail/rte.h | mrail/mem_release.h | mrail/copy.h | mrail/rails_devices.h | mrail/rails_routes.h) echo runtime ;;
    mrail/btl.h) echo btl ;;
    mrail/rails.h) echo rails ;;
    mrail/pml.h) echo pml ;;
    mpi.h) echo mpiobj ;; # MPI's handle types and constants; calls are checked below
    mrail/coll.h) echo coll ;;
    mrail/osc.h) echo osc ;;
    *) echo unknown ;;
  esac
}
bad=0
checked=0
for layer in "${layers[@]}"; do
  me=$(rank_of "$layer")
  while IFS= read -r -d '' f; do
    checked=$((checked + 1))
    while IFS= read -r h; do
      owner=$(owner_of "$h")
      if [ "$owner" = unknown ]; then
        echo "check_layers: $f includes $h, a contract header this check does not know" >&2
        bad=1
      elif [ "$(rank_of "$owner")" -gt "$me" ]; then
        echo "check_layers: $f (layer $layer) includes $h of layer $owner, above it" >&2
        bad=1
      fi
    done < <(sed -n -E 's/^#include "((mrail\/[a-z_]+|mpi)\.h)".*/\1/p' "$f")
    if [ "$layer" != mpi ]; then
      # MPI calls outside the mpi layer, string literals and comments aside.
      calls=$(sed -E 's/"([^"\\]|\\.)*"//g; s://.*$::; s:/\*.*\*/::g; /^[[:space:]]*\*/d; /^[[:space:]]*\/\*/d' "$f" |
        grep -n -E '\bP?MPI_[A-Z][a-z0-9_]*[[:space:]]*\(' || true)
      if [ -n "$calls" ]; then
        echo "check_layers: $f (layer $layer) calls MPI functions:" >&2
        echo "$calls" | head -5 >&2
        bad=1
      fi
    fi
  done < <(find "$layer" -name '*.[ch]' -print0)
done
[ "$checked" -gt 50 ] || { echo "check_layers: only $checked files found under $1" >&2; exit 1; }
[ "$bad" = 0 ] || exit 1
echo "check_layers: $checked files in ${#layers[@]} layers, every include and call points down"
