#!/usr/bin/env bash
# The manual page and the shell completions come from the command table: every command is in both, and the bash
# completion script completes command names (with their ':') and each command's options.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
: "${CTRLMAP_SOURCE_DIR:?}"

say "manual page and completions"
check "--man is a troff page with every command of the table"
ctl --man
assert_rc 0
assert_match "$OUT" '^\.TH CTRLMAP 1'
ctl --complete
assert_rc 0
commands=$(tr ' ' '\n' <"$OUT" | grep -v '^--')
assert_ge "$(wc -w <<<"$commands")" 10 "number of commands"
"$CTRLMAP_BIN" --man >"$T/ctrlmap.1"
for c in $commands; do
  grep -q "^\.SS \"$c " "$T/ctrlmap.1" || fail "the manual page has no section for $c"
done
check "each command's options complete, and unknown commands give nothing"
ctl --complete daw:generate
assert_has "$OUT" "--install"
assert_has "$OUT" "--plugin-position"
ctl --complete maps:list
assert_lacks "$OUT" "--install"

check "the bash completion script completes commands across ':' and options"
complete_line() { # prints COMPREPLY for the command line $1 (cursor at its end)
  PATH="$(dirname "$CTRLMAP_BIN"):$PATH" bash -c '
    source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMP_WORDBREAKS=" =:"
    _ctrlmap; printf "%s\n" "${COMPREPLY[@]}"' _ "$CTRLMAP_SOURCE_DIR/pipeline/completion/ctrlmap.bash" "$1"
}
assert_eq "$(complete_line 'ctrlmap workflow:c')" "complete" "completion of 'workflow:c'"
complete_line 'ctrlmap plu' >"$T/c1"
assert_has "$T/c1" "plugins:extract"
complete_line 'ctrlmap plugins:extract --jo' >"$T/c2"
assert_has "$T/c2" "--jobs"
say "ok"
