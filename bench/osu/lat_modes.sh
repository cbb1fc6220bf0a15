#!/usr/bin/env bash
# Small-message latency split into this VM's fast and slow modes by the
# runs' own figures, as sessions 19-21 measured it (docs/PERFORMANCE.md);
# now mode_compare.sh --test latency --split values, which this runs.
# mode_compare.sh's default split, by cache-line probes around each run,
# also serves bw, bibw and mbw_mr.
#   bench/osu/lat_modes.sh [--build DIR] [--rounds N] [--size BYTES] [--iters N]
set -euo pipefail
case ${1:-} in -h|--help) sed -n '2,7p' "$0"; exit 0 ;; esac
args=(--iters 30000 --rounds 41)
exec "$(dirname "$0")/mode_compare.sh" --test latency --split values "${args[@]}" "$@"
