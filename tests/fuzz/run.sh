#!/usr/bin/env bash
# Runs the libFuzzer harnesses of a fuzz build (tests/fuzz/README.md).
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: tests/fuzz/run.sh --build DIR [--seconds N | --runs N] [--jobs J] [HARNESS...]

Runs each harness (default: all) of DIR, a build configured with
  CC=clang cmake -S . -B DIR -DMRAIL_FUZZ=ON && cmake --build DIR --target fuzzers
starting from its seed corpus and regressions (tests/fuzz/corpus/<name>,
tests/fuzz/regressions/<name>), for N seconds (default 30) or N executions,
J harnesses at a time (default: the CPU count). Each grows its own corpus in
DIR/fuzz-work/<name>, where a crashing input is left as crash-*; the run
then fails, naming it. Prints the executions and their rate per harness.

Harnesses: pml tcp_wire modex mca_file datatype
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
build="" seconds=30 runs="" jobs=$(nproc) names=()
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=${2:?--build needs a directory}; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a number}; runs=""; shift 2 ;;
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
all=(pml tcp_wire modex mca_file datatype)
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
[ -n "$build" ] || { echo "run.sh: --build DIR is required (see --help)" >&2; exit 2; }
for n in "${names[@]}"; do
  [ -x "$build/bin/fuzz_$n" ] || {
    echo "run.sh: $build/bin/fuzz_$n not found: harnesses are ${all[*]}, built with -DMRAIL_FUZZ=ON" >&2
    exit 2
  }
done

# Inputs larger than this add bytes, not paths: the harnesses' steps are small.
max_len() {
  case $1 in tcp_wire) echo 16384 ;; *) echo 4096 ;; esac
}

one() {
  local n=$1 work=$build/fuzz-work/$1
  mkdir -p "$work/corpus"
  cp -n "$here/corpus/$n"/* "$work/corpus/" 2>/dev/null || true
  local seeds=()
  [ -d "$here/regressions/$n" ] && seeds+=("$here/regressions/$n")
  local limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  local start=$SECONDS rc=0
  LSAN_OPTIONS=suppressions=$here/../lsan.supp:print_suppressions=0 \
    ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0 \
    "$build/bin/fuzz_$n" "${limit[@]}" -max_len="$(max_len "$n")" -timeout=20 \
    -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$work/" \
    "$work/corpus" "${seeds[@]}" >"$work/log" 2>&1 || rc=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  local took=$((SECONDS - start))
  if [ $rc -ne 0 ]; then
    echo "fuzz_$n: FAILED after ${execs:-?} executions; input and log in $work:" >&2
    grep -E "ERROR|runtime error|fuzz_$n:" "$work/log" | head -5 >&2
    return 1
  fi
  echo "fuzz_$n: ${execs:-0} executions in ${took} s ($(( ${execs:-0} / (took > 0 ? took : 1) ))/s), corpus $(ls "$work/corpus" | wc -l) inputs, no crash"
}

# J at a time: the next starts as soon as any one ends.
failed=0
for n in "${names[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
    wait -n || failed=1
  done
  one "$n" &
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
  wait -n || failed=1
done
exit $failed
