#!/usr/bin/env bash
# Runs every command of docs/cluster.md on a Slurm cluster of three
# emulated nodes (slurm_cluster.sh), as its reader would type them:
#   test_cluster_doc.sh DOC BIN_DIR WORK_DIR
# In the page, a ```console block holds "$ command" lines, each followed
# by lines that its output (stdout and stderr) must contain, in any order;
# "..." in such a line matches anything, and a line of only "..." nothing
# in particular. A command ending in "# exit N" must exit N, one ending in
# "# fails" must exit non-zero; others 0.
# Blocks whose first line names a file ("/* file: X */", "# file: X") are
# written to X first. Prints "N passed, N failed"; exits 77 when not root.
set -u
doc=$(realpath "$1") bin=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "skip: the Slurm cluster of emulated nodes needs root"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work/run"
trap '"$here/slurm_cluster.sh" down "$work/slurm" >/dev/null 2>&1' EXIT
"$here/slurm_cluster.sh" up "$work/slurm" 3 >"$work/cluster.log" 2>&1 ||
  { echo "FAIL the Slurm cluster did not start"; cat "$work/cluster.log"; exit 1; }
export SLURM_CONF=$work/slurm/mrail-test-slurm.conf PATH="$bin:$PATH"
# Open MPI's mpirun refuses root unless told; the page is for users.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$work/run"

# The page, split: F<TAB>file / L<TAB>line for file blocks; C<TAB>command,
# E<TAB>expected line for console blocks.
awk '
  /^```/ {
    if (!inblock) { inblock = 1; kind = substr($0, 4); file = ""; first = 1; next }
    inblock = 0; next
  }
  !inblock { next }
  first && match($0, /file: [^ *]+/) { file = substr($0, RSTART + 6, RLENGTH - 6); first = 0
    printf "F\t%s\n", file; next }
  { first = 0 }
  file != "" { printf "L\t%s\n", $0; next }
  kind == "console" && /^\$ / { printf "C\t%s\n", substr($0, 3); next }
  kind == "console" { printf "E\t%s\n", $0 }
' "$doc" >"$work/steps"

pass=0 fail=0 cmd="" want=0 n=0
expected=()
finish() { # runs the pending command and checks it
  [ -n "$cmd" ] || return 0
  n=$((n + 1))
  local out=$work/out.$n rc=0
  timeout 120 bash -c "$cmd" </dev/null >"$out" 2>&1 || rc=$?
  local ok=1 line re
  if [ "$want" = fails ]; then
    [ "$rc" != 0 ] || { echo "  exit 0, expected a failure"; ok=0; }
  else
    [ "$rc" = "$want" ] || { echo "  exit $rc, expected $want"; ok=0; }
  fi
  for line in "${expected[@]+"${expected[@]}"}"; do
    [ "$line" = "..." ] && continue
    re=$(printf '%s' "$line" | sed -e 's/[]\/$*.^|()+?{}[]/\\&/g' -e 's/\\\.\\\.\\\./.*/g')
    grep -Eqx -- "[[:space:]]*$re[[:space:]]*" "$out" || { echo "  no line: $line"; ok=0; }
  done
  if [ $ok = 1 ]; then
    pass=$((pass + 1)); echo "ok   \$ $cmd"
  else
    fail=$((fail + 1)); echo "FAIL \$ $cmd"; sed 's/^/  | /' "$out" | head -40
  fi
  cmd="" expected=()
}
files=()
while IFS=$'\t' read -r kind text; do
  case $kind in
    F) finish; files+=("$text"); : >"$text" ;;
    L) printf '%s\n' "$text" >>"${files[-1]}" ;;
    C) finish; cmd=$text; want=0
       [[ $text =~ \#\ exit\ ([0-9]+)$ ]] && want=${BASH_REMATCH[1]}
       [[ $text =~ \#\ fails$ ]] && want=fails ;;
    E) expected+=("$text") ;;
  esac
done <"$work/steps"
finish
[ ${#files[@]} -ge 2 ] || { echo "FAIL the page's files (hello.c, job.sh) were not found"; fail=$((fail + 1)); }
[ "$n" -ge 8 ] || { echo "FAIL only $n commands found in $doc"; fail=$((fail + 1)); }
# Nothing left on the nodes: processes of the page's programs, shared memory.
sleep 1
if pgrep -f "$work/run/hello" >/dev/null || pgrep -x hello >/dev/null; then
  echo "FAIL processes of hello left running"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
