# Sourced by the bench scripts that run one program under mrail, Open MPI
# (with its default single copy, and as openmpi_nocma with copy-in/copy-out)
# and MPICH on this node. The caller sets build (mrail's build directory).
#   stacks_build SRC OUT      builds OUT.mrail, OUT.openmpi and OUT.mpich from SRC
#   stacks_in_turn N STACK...  the stacks rotated by N places: round N of an
#                             interleaved run starts with another stack, as on
#                             this VM a run right after another reads a few per
#                             cent better by itself
#   stacks_launch STACK NP OUT ARGS...
#                             runs OUT.<its binary> on NP ranks: 2 are bound to
#                             the two cores, more are oversubscribed
stacks_build() {
  local src=$1 out=$2
  "$build/bin/mpicc" -O2 -o "$out.mrail" "$src"
  mpicc.openmpi -O2 -o "$out.openmpi" "$src" 2>/dev/null
  mpicc.mpich -O2 -o "$out.mpich" "$src" 2>/dev/null
}
stacks_launch() {
  local stack=$1 np=$2 out=$3
  shift 3
  local bind=(--bind-to core)
  [ "$np" -gt 2 ] && bind=(--oversubscribe)
  case $stack in
    mrail) "$build/bin/mrun" -n "$np" "${bind[@]}" "$out.mrail" "$@" ;;
    openmpi) mpirun.openmpi --allow-run-as-root -n "$np" "${bind[@]}" "$out.openmpi" "$@" ;;
    openmpi_nocma) mpirun.openmpi --allow-run-as-root --mca btl_vader_single_copy_mechanism none \
      -n "$np" "${bind[@]}" "$out.openmpi" "$@" ;;
    mpich) [ "$np" -gt 2 ] && bind=() || bind=(-bind-to core)
      mpirun.mpich -n "$np" "${bind[@]}" "$out.mpich" "$@" ;;
  esac
}
stacks_in_turn() {
  local n=$1
  shift
  local k=$((n % $#))
  echo "${@:k+1}" "${@:1:k}"
}
