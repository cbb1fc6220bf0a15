#!/usr/bin/env bash
# Every tool a user runs answers --help (usage on standard output, exit
# status 0) and refuses an option it does not take (exit status 2, the
# option named on standard error), without starting its work: the scripts
# of bench/ and tools/ (not the sourced ones under lib/) and the benchmark
# programs bench/ builds. mrun, mrail_info and mpicc have suites of their own.
#   test_help.sh SOURCE_DIR BIN_DIR
set -uo pipefail
src=$1 bin=$2
fail=0
check() { # name command...
  local name=$1
  shift
  local out err rc
  out=$(timeout 20 "$@" --help 2>/dev/null </dev/null)
  rc=$?
  if [ "$rc" != 0 ] || [ -z "$out" ]; then
    echo "FAIL $name --help: exit $rc, $(wc -c <<<"$out") bytes of usage" >&2
    fail=1
  fi
  err=$(timeout 20 "$@" --no-such-option 2>&1 >/dev/null </dev/null)
  rc=$?
  if [ "$rc" != 2 ] || ! grep -q -- '--no-such-option\|usage' <<<"$err"; then
    echo "FAIL $name --no-such-option: exit $rc, said: $err" >&2
    fail=1
  fi
}
n=0
while read -r script; do
  case $script in */lib/*) continue ;; esac
  [ -x "$src/$script" ] || { echo "FAIL $script is not executable" >&2; fail=1; continue; }
  check "$script" "$src/$script"
  n=$((n + 1))
done < <(git -C "$src" ls-files 'bench/*.sh' 'tools/*.sh')
for prog in btl_bench cma_ceiling copy_alias copy_stream line_pingpong memload pair_ceiling pmix_hello; do
  check "$prog" "$bin/$prog"
  n=$((n + 1))
done
[ "$n" -ge 20 ] || { echo "FAIL only $n tools found under $src" >&2; fail=1; }
[ "$fail" = 0 ] && echo "test_help: $n tools answer --help and refuse an unknown option"
exit "$fail"
