#!/usr/bin/env bash
# mda.sh (debian): the MDA plugins as Debian installs them (package mda-lv2), from the system LV2 path: mda Delay's
# six control inputs are Ardour parameters 1..6, and the system has a realistic number of plugins.
# Needs no python3 or jq: the descriptor is read with grep/awk (tests/cli/lib.sh).
set -euo pipefail
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/../cli/lib.sh"

URI="http://drobilla.net/plugins/mda/Delay"
say "mda.sh: <$URI> and the system LV2 path"
unset LV2_PATH # lilv's default path, where Debian installs plugins

C="$T/cache"
check "plugins:extract on the system LV2 path: at least 100 plugins, none failed"
ctl plugins:extract --cache-dir "$C"
assert_rc 0
installed=$(sed -n 's/^plugins: \([0-9]*\) installed, .*/\1/p' "$OUT")
[ -n "$installed" ] || fail "no summary line"
assert_ge "$installed" 100 "installed plugins"
assert_has "$OUT" "0 failed"
assert_eq "$(find "$C/plugins/desc" -name '*.json' | wc -l)" "$installed" "descriptor files"
f=$(desc_file "$C" "$URI")
[ -n "$f" ] || fail "no descriptor for <$URI>: is mda-lv2 installed? (apt-get install mda-lv2)"
echo "    $installed plugins; descriptor: $f"

check "mda Delay: 6 control inputs, Ardour parameters 1..6 in port order, all bindable"
assert_eq "$(desc_top "$f" name)" "MDA Delay" "name"
assert_eq "$(port_symbols "$f" control input | tr '\n' ' ')" "l_delay r_delay feedback fb_tone fx_mix output " \
  "control inputs"
assert_eq "$(port_symbols "$f" control output | wc -l)" 0 "control outputs"
n=0
for s in l_delay r_delay feedback fb_tone fx_mix output; do
  n=$((n + 1))
  assert_eq "$(port_field "$f" "$s" ardour_param)" "$n" "$s ardour_param"
  assert_eq "$(port_field "$f" "$s" bindable)" true "$s bindable"
done
for s in left_in right_in left_out right_out; do
  assert_eq "$(port_field "$f" "$s" kind)" audio "$s kind"
  assert_eq "$(port_field "$f" "$s" ardour_param)" "" "$s ardour_param"
done
awk '/^ "counts": \{/ { on = 1 } on' "$f" >"$T/counts"
assert_match "$T/counts" '^  "control_in": 6,$' "counts"
assert_match "$T/counts" '^  "control_out": 0,$' "counts"
assert_match "$T/counts" '^  "ardour_params": 6$' "counts"

check "plugins:list knows the MDA plugins"
ctl plugins:list --cache-dir "$C" --plugin drobilla.net/plugins/mda/
assert_rc 0
n_mda=$(grep -c 'http://drobilla.net/plugins/mda/' "$OUT")
assert_ge "$n_mda" 30 "MDA plugins listed"
assert_match "$OUT" '^MDA Delay +.* 6 +0 +ok +http://drobilla.net/plugins/mda/Delay$' "the list table"

check "a warm run over the system path parses nothing and describes nothing"
ctl plugins:extract --cache-dir "$C" --format json
assert_rc 0
assert_match "$OUT" '"extracted": 0,?$'
assert_match "$OUT" '"turtle_loaded": false,?$'

say "ok"
