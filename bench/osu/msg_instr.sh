#!/usr/bin/env bash
# Instructions per small message, where this VM has no hardware counters
# for perf stat: bench/osu/msg_instr.c built with mrail's, Open MPI's and
# MPICH's mpicc, 2 ranks under valgrind's callgrind, which counts the
# instructions rank 0 executes inside MPI_Send, then inside MPI_Recv when
# the message is already there (after 100 round trips not counted), and
# in one MPI_Test that finds nothing (an idle poll of every transport,
# which a waiting rank repeats until its message comes), and per message
# of a message-rate window received as osu_mbw_mr does (64 MPI_Irecv, the
# messages sent meanwhile, MPI_Waitall). The
# counts barely depend on timing, so one run of each is the figure; they
# include argument checks, matching and the copy, and only the polls a
# stack makes when the message is already there. --detail prints mrail's
# heaviest functions (self counts).
#   bench/osu/msg_instr.sh [--build DIR] [--size BYTES] [--iters N] [--detail]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build size=8 iters=200 detail=0
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --detail) detail=1; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "msg_instr.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $iters in ''|*[!0-9]*|0) echo "msg_instr.sh: --iters must be a positive integer, not '$iters'" >&2; exit 2 ;; esac
case $size in ''|*[!0-9]*|0) echo "msg_instr.sh: --size must be a positive integer, not '$size'" >&2; exit 2 ;; esac
for tool in valgrind callgrind_annotate mpicc.openmpi mpirun.openmpi mpicc.mpich mpirun.mpich; do
  command -v "$tool" >/dev/null ||
    { echo "msg_instr.sh: $tool missing (apt-get install valgrind libopenmpi-dev libmpich-dev)" >&2; exit 1; }
done
[ -x "$build/bin/mpicc" ] && [ -x "$build/bin/mrun" ] ||
  { echo "msg_instr.sh: build mrail first (cmake --build $build): no $build/bin/mpicc or mrun" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=bench/osu/msg_instr.c
"$build/bin/mpicc" -O2 -g -o "$work/mrail" "$src"
mpicc.openmpi -O2 -g -o "$work/openmpi" "$src" 2>/dev/null
mpicc.mpich -O2 -g -o "$work/mpich" "$src" 2>/dev/null
count() { # stack send|recv: instructions per call on rank 0
  local stack=$1 what=$2 out="$work/$1.$2"
  local vg=(valgrind -q --tool=callgrind --collect-atstart=no)
  # 10 ms outside MPI: under valgrind the peer needs some to answer, and a
  # reply not there yet would add polls to the receive count.
  local args=(--iters "$iters" --size "$size" --count "$what" --sleep-us 10000)
  case $stack in
    mrail) "$build/bin/mrun" -n 2 "${vg[@]}" --callgrind-out-file="$out.%q{PMIX_RANK}" "$work/mrail" "${args[@]}" ;;
    openmpi) mpirun.openmpi --allow-run-as-root -n 2 --bind-to none "${vg[@]}" \
      --callgrind-out-file="$out.%q{PMIX_RANK}" "$work/openmpi" "${args[@]}" ;;
    mpich) mpirun.mpich -n 2 "${vg[@]}" --callgrind-out-file="$out.%q{PMI_RANK}" "$work/mpich" "${args[@]}" ;;
  esac </dev/null >"$work/log" 2>&1 || { echo "msg_instr.sh: $stack failed:" >&2; cat "$work/log" >&2; exit 1; }
  grep -q "^ok $iters" "$work/log" || { echo "msg_instr.sh: $stack did not report ok:" >&2; cat "$work/log" >&2; exit 1; }
  local n=$iters
  [ "$what" = window ] && n=$((iters * 64))
  awk -v n="$n" '/^summary:/ {printf "%.0f", $2 / n}' "$out.0"
}
printf '# msg_instr: instructions rank 0 executes per %s-byte message (callgrind, %s calls)\n' "$size" "$iters"
printf '| stack | MPI_Send | MPI_Recv (message there) | both | MPI_Test finding nothing | window: Irecv + Waitall per message |\n|---|---|---|---|---|---|\n'
for stack in mrail openmpi mpich; do
  s=$(count "$stack" send)
  r=$(count "$stack" recv)
  p=$(count "$stack" poll)
  w=$(count "$stack" window)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$stack" "$s" "$r" "$((s + r))" "$p" "$w"
done
if [ "$detail" = 1 ]; then
  for what in Send Recv Test Window; do
    printf '\n# mrail MPI_%s, self instructions per call (per message for the window), heaviest first\n' "$what"
    f=${what,,}; [ "$f" = test ] && f=poll
    n=$iters; [ "$f" = window ] && n=$((iters * 64))
    callgrind_annotate --inclusive=no "$work/mrail.$f.0" 2>/dev/null |
      awk -v n="$n" '/^ *[0-9,]+ \(/ && !/TOTALS/ {x = $1; gsub(",", "", x); f = $NF; if (f ~ /^\[/) f = $(NF - 1);
        if (f !~ /:/) next; sub(/.*\/work\/[^/]*\//, "", f); if (x / n >= 5) printf "%6.0f  %s\n", x / n, f}' | head -25
  done
fi
