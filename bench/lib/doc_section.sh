# Sourced by the bench scripts: replaces the section between
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" of docs/PERFORMANCE.md with
# TEXT (which carries those markers), or appends it; creates the file.
#   write_doc_section NAME TEXT
write_doc_section() {
  local doc=docs/PERFORMANCE.md
  [ -f "$doc" ] || printf '# Performance\n\nEvery figure here comes from a script in bench/, with the command that produced it. The machine is shared and noisy: medians, and ratios measured in the same run.\n' > "$doc"
  python3 - "$doc" "$1" "$2" <<'PY'
import re, sys
path, name, section = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(path).read()
pattern = re.compile(r'<!-- %s:begin -->.*?<!-- %s:end -->' % (name, name), re.S)
if pattern.search(text):
    text = pattern.sub(lambda m: section, text)
else:
    text = text.rstrip('\n') + '\n\n' + section + '\n'
open(path, 'w').write(text)
PY
}
