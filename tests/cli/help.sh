#!/usr/bin/env bash
# help.sh: --help, --version, per-command help, and the usage errors (exit 2) of the command line.
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

say "help.sh: help, version and usage errors"

check "--help lists the plugins commands with their summaries, exit 0"
ctl --help
assert_rc 0
assert_has "$OUT" "usage: ctrlmap COMMAND"
for c in plugins:extract plugins:list plugins:health; do
  assert_match "$OUT" "^  $c +[a-z].{10,}" "--help"
done
assert_has "$OUT" "Exit codes:"
[ ! -s "$ERR" ] || fail "--help wrote to stderr"
commands=$(awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' "$OUT")
[ -n "$commands" ] || fail "could not read the command list from --help"

check "-h and 'help' are --help"
cp "$OUT" "$T/help"
for w in -h help; do
  ctl "$w"
  assert_rc 0
  cmp -s "$OUT" "$T/help" || fail "'ctrlmap $w' differs from 'ctrlmap --help'"
done

check "no command: usage on stderr, exit 2"
ctl
assert_rc 2
assert_has "$ERR" "usage: ctrlmap COMMAND"

check "COMMAND --help shows the command's options, exit 0"
declare -A want_opts=(
  [plugins:extract]="--cache-dir --lv2-path --jobs --timeout --force --format --strict --performance --performance-json --lock-timeout --engine"
  [plugins:list]="--cache-dir --plugin --format --performance --performance-json --lock-timeout"
  [plugins:health]="--cache-dir --lv2-path --jobs --timeout --plugin --format --strict --performance --performance-json"
)
declare -A unwanted_opts=([plugins:extract]="--plugin" [plugins:list]="--force --lv2-path --jobs --timeout --engine"
  [plugins:health]="--force --engine")
for c in plugins:extract plugins:list plugins:health; do
  ctl "$c" --help
  assert_rc 0
  assert_has "$OUT" "usage: ctrlmap $c" "$c --help"
  assert_has "$OUT" "Options:" "$c --help"
  assert_has "$OUT" "--help" "$c --help"
  for o in ${want_opts[$c]}; do
    assert_match "$OUT" "^ +(-[a-z], )?$o( |$)" "$c --help"
  done
  for o in ${unwanted_opts[$c]}; do
    ! grep -qE -- "^ +(-[a-z], )?$o( |$)" "$OUT" || fail "$c --help offers $o, which it does not take"
  done
  # 'ctrlmap help CMD' is the same text.
  cp "$OUT" "$T/cmdhelp"
  ctl help "$c"
  assert_rc 0
  cmp -s "$OUT" "$T/cmdhelp" || fail "'ctrlmap help $c' differs from 'ctrlmap $c --help'"
done

check "--version names ctrlmap and the versions of lilv, libxml2, libfyaml, jansson and xxhash"
ctl --version
assert_rc 0
assert_match "$OUT" '^ctrlmap [0-9]+\.[0-9]+\.[0-9]+' "--version"
for lib in lilv libxml2 libfyaml jansson xxhash; do
  assert_match "$OUT" "[( ]$lib [0-9]+\.[0-9]+" "--version"
done
ctl -V
assert_rc 0
assert_has "$OUT" "lilv "

check "an unknown command: exit 2, naming the known ones"
ctl plugins:nope
assert_rc 2
assert_has "$ERR" "plugins:nope"
for c in $commands; do
  assert_has "$ERR" "$c" "the unknown-command message"
done

check "an unknown option: exit 2, naming the option"
cache="$T/never"
ctl plugins:list --cache-dir "$cache" --frobnicate
assert_rc 2
assert_has "$ERR" "--frobnicate"
assert_has "$ERR" "usage: ctrlmap plugins:list"
ctl plugins:extract --cache-dir "$cache" -Z
assert_rc 2
assert_has "$ERR" "'-Z'"

check "an option of another command is refused"
ctl plugins:list --cache-dir "$cache" --force
assert_rc 2
assert_has "$ERR" "--force"

check "bad option values: exit 2, and nothing is done"
for args in "--jobs 0" "--jobs -3" "--jobs many" "--jobs 1025" "--timeout 0" "--timeout abc" "--format xml" \
  "--lock-timeout -1" "--engine bogus"; do
  # shellcheck disable=SC2086
  ctl plugins:extract --cache-dir "$cache" --lv2-path "$T" $args
  assert_rc 2
  assert_has "$ERR" "${args%% *}"
done
ctl plugins:extract --cache-dir "$cache" --jobs
assert_rc 2
assert_has "$ERR" "--jobs needs a value"
ctl plugins:extract --cache-dir "$cache" --force=yes
assert_rc 2
assert_has "$ERR" "--force"
ctl plugins:list --cache-dir "$cache" stray-argument
assert_rc 2
assert_has "$ERR" "stray-argument"
[ ! -e "$cache" ] || fail "a usage error created the cache directory $cache"

check "--opt=value works like --opt value"
ctl plugins:extract --cache-dir="$T/eq" --lv2-path="$CTRLMAP_TEST_LV2_DIR" --jobs=2 --format=json
assert_rc 0
assert_json "$OUT"
[ -d "$T/eq/plugins" ] || fail "--cache-dir=DIR was not used"

check "--complete lists the commands and a command's options (for shell completion)"
ctl --complete
assert_rc 0
for c in $commands; do assert_has "$OUT" "$c" "--complete"; done
ctl --complete plugins:list
assert_rc 0
assert_has "$OUT" "--plugin" "--complete plugins:list"
assert_lacks "$OUT" "--force" "--complete plugins:list"

say "ok"
