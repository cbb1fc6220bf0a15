#!/usr/bin/env bash
# The formatting gate: every C source and header of the tree as
# clang-format (Debian 12's, version 14) with .clang-format would write it.
# Fix a failure with: tools/check-format.sh --fix
set -euo pipefail
case "${1:-}" in
  ''|--fix) ;;
  -h|--help) echo "usage: tools/check-format.sh [--fix]"; sed -n '2,4p' "$0" | sed 's/^# //'; exit 0 ;;
  *) echo "check-format.sh: unknown argument $1 (valid: --fix, --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
cf=$(command -v clang-format-14 || command -v clang-format || true)
[ -n "$cf" ] || { echo "check-format: clang-format missing (tools/setup-debian.sh installs it)" >&2; exit 1; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files '*.c' '*.h' '*.h.in')
else
  mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' \) -print)
fi
if [ "${1:-}" = --fix ]; then
  "$cf" -i "${files[@]}"
  exit 0
fi
"$cf" --dry-run -Werror "${files[@]}"
echo "check-format: ${#files[@]} files as clang-format writes them"
