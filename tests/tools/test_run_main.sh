#!/usr/bin/env bash
# The README's main command as a new user meets it: installing and building
# print one line each (their output kept in a log, shown when a step
# fails), and the lab says what it is doing before its table.
#   test_run_main.sh SOURCE_DIR BUILD_DIR
# Prints "N passed, N failed"; exits 77 (skipped) for the lab part when
# not root.
set -u
src=$1 build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; sed 's/^/  | /' "$work/out" | head -60; }

# A step that succeeds: one line, its output in the log only.
(. "$src/tools/lib/quiet_step.sh"; QUIET_STEP_NAME=t
 quiet_step "$work/log" "a noisy step" bash -c 'for i in $(seq 200); do echo "noise $i"; done') >"$work/out" 2>&1
# The seconds are wall time: a loaded machine, or a second boundary crossed,
# makes them 1 or more.
if [[ "$(cat "$work/out")" =~ ^"t: a noisy step ... done ("[0-9]+" s)"$ ]] && grep -qx "noise 200" "$work/log"; then
  ok step-success-one-line
else
  bad step-success-one-line
fi

# A step that fails: its status, the end of the log, and nothing after it.
(. "$src/tools/lib/quiet_step.sh"; QUIET_STEP_NAME=t
 quiet_step "$work/log" "a failing step" bash -c 'echo "E: Unable to locate package frobnicate"; exit 7'
 echo "not reached") >"$work/out" 2>&1
rc=$?
if [ "$rc" = 7 ] && grep -q '^t: a failing step ... FAILED (exit 7); the end of ' "$work/out" &&
   grep -qx '  | E: Unable to locate package frobnicate' "$work/out" && ! grep -q "not reached" "$work/out"; then
  ok step-failure-shows-log
else
  bad "step-failure-shows-log (exit $rc)"
fi

check_done() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ] || exit 1
}
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: the lab part of run-main.sh needs root (network namespaces, tc)"
  check_done
  exit 77
fi

# The whole main job, small: one stack, one run, two fast rails.
"$src/tools/run-main.sh" --build "$build" --stacks mrail --reps 1 4gbit,4gbit >"$work/out" 2>&1
rc=$?
[ "$rc" = 0 ] && ok run-main-exit || bad "run-main-exit ($rc)"
# Before mrail_info's report: the log line and one line per step, no more.
before=$(sed -n '/^mrail [0-9]/q;p' "$work/out" | grep -c .)
[ "$before" -le 4 ] && ok "quiet-before-report ($before lines)" || bad "quiet-before-report ($before lines)"
if grep -qE '^(Reading package lists|Setting up |-- |\[[0-9]+/[0-9]+\] )' "$work/out"; then
  bad no-apt-or-build-output
else
  ok no-apt-or-build-output
fi
grep -q "^run-main: installing, configuring and building; their output goes to .*/run-main.log$" "$work/out" &&
  ok names-the-log || bad names-the-log
grep -q '^rail_efficiency: \[1/1 4gbit,4gbit\] iperf3 on rail 2 of 2 alone' "$work/out" &&
  grep -q '^rail_efficiency: \[1/1 4gbit,4gbit\] mrail over all 2 rails, run 1 of 1' "$work/out" &&
  ok lab-progress || bad lab-progress
# The table: mrail's row for 4 MiB, with a figure and an efficiency.
grep -qE '^\| 4gbit,4gbit \| 4 MiB \| [0-9.]+ \+ [0-9.]+ = [0-9]+ \| [0-9]+ \(\*\*[0-9.]+ %\*\*\) \|$' "$work/out" &&
  ok lab-table || bad lab-table
# Bad input is named.
"$src/tools/run-main.sh" --frobnicate >"$work/out" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q 'unknown option --frobnicate (valid: --build, --stacks, --reps, --help)' "$work/out" &&
  ok bad-option || bad "bad-option ($rc)"
check_done
