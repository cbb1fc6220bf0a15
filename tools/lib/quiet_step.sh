# quiet_step LOG WHAT COMMAND...: runs COMMAND with its output appended to
# LOG and prints one line for it ("WHAT ... done (N s)"). When it fails, the
# line says so, the last 40 lines of LOG follow, and the caller's shell
# exits with COMMAND's status. Sourced by the README's two commands.
quiet_step() {
  local log=$1 what=$2 start=$SECONDS rc=0
  shift 2
  printf '%s: %s ... ' "${QUIET_STEP_NAME:-${0##*/}}" "$what"
  printf '\n=== %s: %s\n' "$what" "$*" >>"$log"
  "$@" >>"$log" 2>&1 || rc=$?
  if [ "$rc" = 0 ]; then
    echo "done ($((SECONDS - start)) s)"
    return 0
  fi
  echo "FAILED (exit $rc); the end of $log:"
  tail -n 40 "$log" | sed 's/^/  | /'
  exit "$rc"
}
